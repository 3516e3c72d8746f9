package wsman

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits bound what a request may contain. Zero fields take the defaults.
type Limits struct {
	MaxBytes    int // the body, after decoding to UTF-8; default 512 KiB
	MaxDepth    int // element nesting; default 32
	MaxElements int // elements in the document; default 10,000
	MaxAttrs    int // attributes on one element; default 32
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 512 << 10
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 32
	}
	if l.MaxElements <= 0 {
		l.MaxElements = 10_000
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = 32
	}
	return l
}

// Node is an element of a decoded document, its names resolved to their
// namespaces.
type Node struct {
	Name     xml.Name
	Attrs    []xml.Attr
	Children []*Node
	Text     string // the text directly inside
}

// T returns the node's text trimmed of surrounding white space ("" for a
// nil node).
func (n *Node) T() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.Text)
}

// Is reports whether the node is the element local in namespace space.
func (n *Node) Is(space, local string) bool {
	return n != nil && n.Name.Local == local && n.Name.Space == space
}

// Child returns the first child element local in namespace space, or nil.
func (n *Node) Child(space, local string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Is(space, local) {
			return c
		}
	}
	return nil
}

// ChildLocal returns the first child element called local in any
// namespace, or nil: for the elements whose namespace clients spell
// differently.
func (n *Node) ChildLocal(local string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name.Local == local {
			return c
		}
	}
	return nil
}

// Attr returns the attribute local (of no namespace, or of any when none
// without matches) and whether it is present.
func (n *Node) Attr(local string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value, true
		}
	}
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space != "xmlns" {
			return a.Value, true
		}
	}
	return "", false
}

// errNotWellFormed marks a body that is not a well-formed document.
var errNotWellFormed = errors.New("not well-formed")

// ToUTF8 returns the body as UTF-8: a UTF-16 body (little or big endian)
// must start with its byte-order mark, a UTF-8 body may; anything that is
// not valid in its encoding is an error.
func ToUTF8(body []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		body = body[3:]
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}), bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		le := body[0] == 0xFF
		body = body[2:]
		if len(body)%2 != 0 {
			return nil, fmt.Errorf("%w: a UTF-16 body of an odd number of bytes", errNotWellFormed)
		}
		u := make([]uint16, len(body)/2)
		for i := range u {
			if le {
				u[i] = uint16(body[2*i]) | uint16(body[2*i+1])<<8
			} else {
				u[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
			}
		}
		out := make([]byte, 0, len(u)+len(u)/4)
		for i := 0; i < len(u); i++ {
			r := rune(u[i])
			switch {
			case utf16.IsSurrogate(r):
				if i+1 >= len(u) {
					return nil, fmt.Errorf("%w: an unpaired UTF-16 surrogate", errNotWellFormed)
				}
				r = utf16.DecodeRune(r, rune(u[i+1]))
				if r == utf8.RuneError {
					return nil, fmt.Errorf("%w: an unpaired UTF-16 surrogate", errNotWellFormed)
				}
				i++
			}
			out = utf8.AppendRune(out, r)
		}
		return out, nil
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: the body is not valid UTF-8 (a UTF-16 body needs its byte-order mark)", errNotWellFormed)
	}
	return body, nil
}

// Parse decodes a whole document (UTF-8 or UTF-16 with a BOM) into a tree
// within the limits. DTDs and every other directive are refused, so no
// entity can be declared, let alone expanded; entity references other than
// XML's five are errors.
func Parse(body []byte, limits Limits) (*Node, error) {
	l := limits.withDefaults()
	if len(body) > 2*l.MaxBytes+4 {
		return nil, fmt.Errorf("%w: the body is over %d bytes", errTooBig, l.MaxBytes)
	}
	data, err := ToUTF8(body)
	if err != nil {
		return nil, err
	}
	if len(data) > l.MaxBytes {
		return nil, fmt.Errorf("%w: the body is over %d bytes", errTooBig, l.MaxBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "utf-16", "utf16", "utf-16le", "utf-16be":
			return input, nil // already UTF-8
		}
		return nil, fmt.Errorf("encoding %q is not supported; use UTF-8 or UTF-16", label)
	}
	var stack []*Node
	var root *Node
	var text [][]byte
	elements := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errNotWellFormed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > l.MaxElements {
				return nil, fmt.Errorf("%w: more than %d elements", errTooBig, l.MaxElements)
			}
			if len(stack) >= l.MaxDepth {
				return nil, fmt.Errorf("%w: elements nested deeper than %d", errTooBig, l.MaxDepth)
			}
			if len(t.Attr) > l.MaxAttrs {
				return nil, fmt.Errorf("%w: an element with more than %d attributes", errTooBig, l.MaxAttrs)
			}
			n := &Node{Name: t.Name, Attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", errNotWellFormed)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.Text = string(text[len(text)-1])
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, fmt.Errorf("%w: text outside the root element", errNotWellFormed)
				}
				continue
			}
			text[len(text)-1] = append(text[len(text)-1], t...)
		case xml.Directive:
			return nil, fmt.Errorf("%w: a DTD or other <!…> directive; SOAP forbids them", errNotWellFormed)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", errNotWellFormed)
	}
	return root, nil
}

// errTooBig marks a request over a limit.
var errTooBig = errors.New("over a limit")
