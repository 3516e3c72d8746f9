package mof

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
)

const (
	indent    = "    "
	lineWidth = 100 // a qualifier list longer than this gets one qualifier a line
	chunkLen  = 72  // longer string qualifier values are split over lines
)

// Format writes the declaration of class c as canonical MOF: its
// qualifier list, "class Name : Super {", each property it declares itself
// (Propagated false) with its qualifiers, indented, and "};", ending in a
// newline. Parsing the result gives back c.Local().
//
// Values are written in MOF's literal syntax; Go values outside the cim
// package's mapping are written as strings. A parse gives back the
// canonical Go types (a qualifier value of any integer type comes back as
// int64, an empty qualifier list comes back nil), and a qualifier's
// declared Type is not written, since MOF carries it in a qualifier
// declaration instead. Real values that are NaN
// or infinite have no MOF literal and are written so that the parse fails.
func Format(c *cim.Class) string {
	var b strings.Builder
	writeClass(&b, c)
	return b.String()
}

// FormatFile writes a compilation unit: the namespace pragma when f has a
// namespace, then each class, separated by blank lines. Other pragmas and
// the qualifier declarations are not written.
func FormatFile(f *File) string {
	var b strings.Builder
	if f.Namespace != "" {
		b.WriteString("#pragma namespace(" + quoteString(f.Namespace) + ")\n\n")
	}
	for i, c := range f.Classes {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeClass(&b, c)
	}
	return b.String()
}

func writeClass(b *strings.Builder, c *cim.Class) {
	if len(c.Qualifiers) > 0 {
		b.WriteString(formatQualifierList(c.Qualifiers, ""))
		b.WriteByte('\n')
	}
	b.WriteString("class ")
	b.WriteString(c.Name)
	if c.SuperClass != "" {
		b.WriteString(" : ")
		b.WriteString(c.SuperClass)
	}
	b.WriteString(" {\n")
	prevQuals, first := false, true
	for i := range c.Properties {
		prop := &c.Properties[i]
		if prop.Propagated {
			continue
		}
		hasQuals := len(prop.Qualifiers) > 0
		if !first && (hasQuals || prevQuals) {
			b.WriteByte('\n')
		}
		first, prevQuals = false, hasQuals
		writeProperty(b, prop)
	}
	b.WriteString("};\n")
}

func writeProperty(b *strings.Builder, prop *cim.Property) {
	if len(prop.Qualifiers) > 0 {
		b.WriteString(indent)
		b.WriteString(formatQualifierList(prop.Qualifiers, indent))
		b.WriteByte('\n')
	}
	b.WriteString(indent)
	if prop.Type.Kind == cim.KindReference {
		ref := prop.Type.RefClass
		if ref == "" {
			ref = "object"
		}
		b.WriteString(ref + " REF ")
	} else {
		b.WriteString(prop.Type.Kind.String())
		b.WriteByte(' ')
	}
	b.WriteString(prop.Name)
	if prop.Type.Array {
		b.WriteString("[]")
	}
	if prop.Default != nil {
		b.WriteString(" = ")
		b.WriteString(formatValue(prop.Default))
	}
	b.WriteString(";\n")
}

// FormatQualifiers writes a qualifier list as MOF, such as
// `[Key, MaxLen(64), ValueMap{"0", "2"}]`, or "" for an empty list. A
// bare name stands for a true boolean qualifier. A list too long for one
// line gets one qualifier a line, and long strings are split into
// concatenated literals.
func FormatQualifiers(qs cim.Qualifiers) string {
	return formatQualifierList(qs, "")
}

// formatQualifierList writes the list for a line that starts with prefix.
func formatQualifierList(qs cim.Qualifiers, prefix string) string {
	if len(qs) == 0 {
		return ""
	}
	parts := make([]string, len(qs))
	n := len(prefix) + 2
	for i, q := range qs {
		parts[i] = formatQualifier(q, "")
		n += len(parts[i]) + 2
	}
	if n <= lineWidth && !strings.Contains(strings.Join(parts, ""), "\n") {
		return "[" + strings.Join(parts, ", ") + "]"
	}
	cont := prefix + " "
	for i, q := range qs {
		parts[i] = formatQualifier(q, cont)
	}
	return "[" + strings.Join(parts, ",\n"+cont) + "]"
}

// formatQualifier writes one qualifier. A non-empty cont allows long
// strings to be split over lines, each continuation starting with cont.
func formatQualifier(q cim.Qualifier, cont string) string {
	switch v := q.Value.(type) {
	case bool:
		if v {
			return q.Name
		}
	case []any, []string:
		if cont != "" {
			return q.Name + wrapArray(v, cont+strings.Repeat(" ", len(q.Name)+1))
		}
		return q.Name + formatValue(v)
	case string:
		if cont != "" && utf8.RuneCountInString(v) > chunkLen {
			chunks := splitString(v, chunkLen)
			var b strings.Builder
			b.WriteString(q.Name + "(")
			pad := cont + strings.Repeat(" ", len(q.Name)+1)
			for i, c := range chunks {
				if i > 0 {
					b.WriteString("\n" + pad)
				}
				b.WriteString(quoteString(c))
			}
			b.WriteString(")")
			return b.String()
		}
	}
	return q.Name + "(" + formatValue(q.Value) + ")"
}

// wrapArray writes an array literal whose elements go on as many lines
// as they need, continuation lines starting with pad.
func wrapArray(v any, pad string) string {
	var elems []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			elems = append(elems, formatValue(e))
		}
	case []string:
		for _, e := range x {
			elems = append(elems, quoteString(e))
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	width := len(pad) + 1
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
			width++
			if width+1+len(e) > lineWidth {
				b.WriteString("\n" + pad)
				width = len(pad)
			} else {
				b.WriteByte(' ')
				width++
			}
		}
		b.WriteString(e)
		width += len(e)
	}
	b.WriteByte('}')
	return b.String()
}

// splitString cuts s into pieces of at most about n characters, after a
// space where there is one, so that joining them gives s back.
func splitString(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		// Byte offset of the n-th rune.
		end, count := 0, 0
		for i := range s {
			if count == n {
				end = i
				break
			}
			count++
		}
		cut := strings.LastIndexByte(s[:end], ' ')
		if cut < n/2 {
			cut = end
		} else {
			cut++ // keep the space on this line
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}

// formatValue writes a value as a MOF literal.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return quoteString(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case cim.Char16:
		return quoteChar(x)
	case float32:
		return formatReal(float64(x), 32)
	case float64:
		return formatReal(x, 64)
	case uint64:
		return strconv.FormatUint(x, 10)
	case cim.DateTime:
		return quoteString(x.String())
	case cim.ObjectPath:
		return quoteString(x.String())
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = quoteString(e)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if i, ok := cim.AsInt64(v); ok {
		return strconv.FormatInt(i, 10)
	}
	if u, ok := cim.AsUint64(v); ok {
		return strconv.FormatUint(u, 10)
	}
	return quoteString(fmt.Sprint(v))
}

// formatReal writes a real so that it reads back as a real of that size:
// always with a fraction ("5.0", "1.0e+21").
func formatReal(f float64, bits int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, bits) // no MOF literal: fails to parse
	}
	s := strconv.FormatFloat(f, 'g', -1, bits)
	if strings.ContainsRune(s, '.') {
		return s
	}
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		return s[:i] + ".0" + s[i:]
	}
	return s + ".0"
}

// quoteString writes s as a MOF string literal. Characters that are not
// printable (controls, format characters such as U+FEFF, separators other
// than space) are written as \x escapes, the others as they are; bytes
// that are not UTF-8 become U+FFFD.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		writeEscaped(&b, r, '"')
	}
	b.WriteByte('"')
	return b.String()
}

// quoteChar writes c as a MOF char16 literal, with anything outside
// printable ASCII as a \x escape.
func quoteChar(c cim.Char16) string {
	var b strings.Builder
	b.WriteByte('\'')
	if c >= 0x80 {
		fmt.Fprintf(&b, `\x%04X`, uint16(c))
	} else {
		writeEscaped(&b, rune(c), '\'')
	}
	b.WriteByte('\'')
	return b.String()
}

func writeEscaped(b *strings.Builder, r rune, quote rune) {
	switch r {
	case quote, '\\':
		b.WriteByte('\\')
		b.WriteRune(r)
	case '\n':
		b.WriteString(`\n`)
	case '\t':
		b.WriteString(`\t`)
	case '\r':
		b.WriteString(`\r`)
	case '\b':
		b.WriteString(`\b`)
	case '\f':
		b.WriteString(`\f`)
	default:
		switch {
		case unicode.IsPrint(r) || r == utf8.RuneError:
			b.WriteRune(r)
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\x%04X\x%04X`, hi, lo)
		default:
			fmt.Fprintf(b, `\x%04X`, r)
		}
	}
}
