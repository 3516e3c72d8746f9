package wql

import (
	"unicode"
	"unicode/utf8"
)

// likeKind is the kind of one element of a LIKE pattern.
type likeKind uint8

const (
	likeLit  likeKind = iota // one given character, case-insensitively
	likeOne                  // _ : any one character
	likeMany                 // % : any run of characters, possibly empty
	likeSet                  // [a-f] or [^a-f]: one character of (or not of) a set
)

type runeRange struct{ lo, hi rune }

type likeElem struct {
	kind   likeKind
	r      rune // likeLit: the character, lower-cased
	neg    bool
	ranges []runeRange
}

// likePattern is a compiled LIKE pattern.
type likePattern []likeElem

// compileLike compiles a WQL LIKE pattern: % for any run of characters,
// _ for any one, [abc] [a-f] for one of a set, [^a-f] for one not in it.
// [%] and [_] stand for the characters themselves. It returns a message
// saying what is wrong with a malformed pattern.
func compileLike(p string) (likePattern, string) {
	var out likePattern
	for i := 0; i < len(p); {
		r, w := utf8.DecodeRuneInString(p[i:])
		i += w
		switch r {
		case '%':
			if len(out) > 0 && out[len(out)-1].kind == likeMany {
				continue // %% is %
			}
			out = append(out, likeElem{kind: likeMany})
		case '_':
			out = append(out, likeElem{kind: likeOne})
		case '[':
			e := likeElem{kind: likeSet}
			if i < len(p) && p[i] == '^' {
				e.neg = true
				i++
			}
			closed := false
			for i < len(p) {
				lo, w := utf8.DecodeRuneInString(p[i:])
				if lo == ']' {
					i++
					closed = true
					break
				}
				i += w
				hi := lo
				if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
					hi, w = utf8.DecodeRuneInString(p[i+1:])
					i += 1 + w
					if hi < lo {
						return nil, "range " + string(lo) + "-" + string(hi) + " runs backwards"
					}
				}
				e.ranges = append(e.ranges, runeRange{lo, hi})
			}
			if !closed {
				return nil, "'[' without a closing ']'"
			}
			if len(e.ranges) == 0 {
				return nil, "empty character set []"
			}
			out = append(out, e)
		default:
			out = append(out, likeElem{kind: likeLit, r: unicode.ToLower(r)})
		}
	}
	return out, ""
}

// matchOne reports whether element e (not likeMany) matches character r.
func (e *likeElem) matchOne(r rune) bool {
	switch e.kind {
	case likeOne:
		return true
	case likeLit:
		if e.r == r {
			return true
		}
		if r < utf8.RuneSelf {
			return 'A' <= r && r <= 'Z' && e.r == r+('a'-'A')
		}
		return e.r == unicode.ToLower(r)
	case likeSet:
		in := inRanges(e.ranges, r)
		if !in {
			if l := unicode.ToLower(r); l != r {
				in = inRanges(e.ranges, l)
			}
			if u := unicode.ToUpper(r); !in && u != r {
				in = inRanges(e.ranges, u)
			}
		}
		return in != e.neg
	}
	return false
}

func inRanges(rs []runeRange, r rune) bool {
	for _, x := range rs {
		if r >= x.lo && r <= x.hi {
			return true
		}
	}
	return false
}

// match reports whether s matches the whole pattern. It backtracks only
// to the last %, so it runs in O(len(s)·len(p)) and allocates nothing.
func (p likePattern) match(s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			if p[pi].kind == likeMany {
				starP, starS = pi, si
				pi++
				continue
			}
			r, w := utf8.DecodeRuneInString(s[si:])
			if p[pi].matchOne(r) {
				pi++
				si += w
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starS:])
		starS += w
		si = starS
		pi = starP + 1
	}
	for pi < len(p) && p[pi].kind == likeMany {
		pi++
	}
	return pi == len(p)
}
