package wql

import (
	"strconv"
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

// MaxLikePattern bounds a LIKE pattern's length in bytes, and
// maxLikeSets the character sets ([...]) in one.
const (
	MaxLikePattern = 4096
	maxLikeSets    = 64
)

// likePattern is a compiled LIKE pattern: the runs of fixed-width
// elements between its %s, each compiled for a bit-parallel search.
type likePattern struct {
	elems []likeElem
	segs  []*likeSeg
	// anchored: the pattern has no %; the one segment is the whole string.
	anchored bool
}

// compileLike compiles a WQL LIKE pattern: % for any run of characters,
// _ for any one, [abc] [a-f] for one of a set, [^a-f] for one not in it.
// [%] and [_] stand for the characters themselves. It returns a message
// saying what is wrong with a malformed pattern.
func compileLike(p string) (*likePattern, string) {
	if len(p) > MaxLikePattern {
		return nil, "longer than " + strconv.Itoa(MaxLikePattern) + " bytes"
	}
	var out []likeElem
	sets := 0
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
			if sets++; sets > maxLikeSets {
				return nil, "more than " + strconv.Itoa(maxLikeSets) + " character sets"
			}
			out = append(out, e)
		default:
			out = append(out, likeElem{kind: likeLit, r: unicode.ToLower(r)})
		}
	}
	lp := &likePattern{elems: out, anchored: true}
	start := 0
	for i := 0; i <= len(out); i++ {
		if i == len(out) || out[i].kind == likeMany {
			if i < len(out) {
				lp.anchored = false
			}
			lp.segs = append(lp.segs, newLikeSeg(out[start:i]))
			start = i + 1
		}
	}
	return lp, ""
}

// likeSeg is a run of fixed-width elements (no %), each matching exactly
// one character, compiled for the Shift-And search: bit j of a mask says
// element j matches the character.
type likeSeg struct {
	elems []likeElem
	words int
	ascii [][]uint64        // by ASCII character, lower-cased
	lits  map[rune][]uint64 // literal non-ASCII characters, lower-cased
	any   []uint64          // elements that match any character (_)
	sets  []int             // indexes of the character sets
}

func newLikeSeg(elems []likeElem) *likeSeg {
	sg := &likeSeg{elems: elems, words: (len(elems) + 63) / 64}
	sg.ascii = make([][]uint64, utf8.RuneSelf)
	for c := range sg.ascii {
		sg.ascii[c] = make([]uint64, sg.words)
	}
	sg.any = make([]uint64, sg.words)
	for j := range elems {
		e := &elems[j]
		w, bit := j/64, uint64(1)<<(j%64)
		switch e.kind {
		case likeOne:
			sg.any[w] |= bit
		case likeLit:
			// lits serves the non-ASCII characters of s, whose lower
			// case may be ASCII (K, the Kelvin sign, is k).
			if e.r < utf8.RuneSelf {
				sg.ascii[e.r][w] |= bit
			}
			if sg.lits == nil {
				sg.lits = map[rune][]uint64{}
			}
			m := sg.lits[e.r]
			if m == nil {
				m = make([]uint64, sg.words)
				sg.lits[e.r] = m
			}
			m[w] |= bit
		case likeSet:
			sg.sets = append(sg.sets, j)
		}
	}
	for c := range sg.ascii {
		m := sg.ascii[c]
		if 'A' <= c && c <= 'Z' {
			copy(m, sg.ascii[c+'a'-'A'])
		}
		for w := range m {
			m[w] |= sg.any[w]
		}
		for _, j := range sg.sets {
			if elems[j].matchOne(rune(c)) {
				m[j/64] |= 1 << (j % 64)
			}
		}
	}
	return sg
}

// mask sets in m the elements that match r.
func (sg *likeSeg) mask(m []uint64, r rune) {
	if r < utf8.RuneSelf {
		copy(m, sg.ascii[r])
		return
	}
	copy(m, sg.any)
	if l, ok := sg.lits[unicode.ToLower(r)]; ok {
		for w := range m {
			m[w] |= l[w]
		}
	}
	for _, j := range sg.sets {
		if sg.elems[j].matchOne(r) {
			m[j/64] |= 1 << (j % 64)
		}
	}
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

// match reports whether s matches the whole pattern. The parts of the
// pattern between %s are fixed-width, so taking each part at its leftmost
// place is right; each place is found with a bit-parallel (Shift-And)
// scan, so a match costs O(len(s) · (len(part)/64 + 1)) per part, never
// the backtracking product of the lengths.
func (p *likePattern) match(s string) bool {
	segs := p.segs
	if p.anchored {
		end, ok := segs[0].prefix(s)
		return ok && end == len(s)
	}
	first, last := segs[0], segs[len(segs)-1]
	cur, ok := first.prefix(s)
	if !ok {
		return false
	}
	limit, ok := last.suffix(s)
	if !ok || limit < cur {
		return false
	}
	for _, sg := range segs[1 : len(segs)-1] {
		if len(sg.elems) == 0 {
			continue
		}
		end, ok := sg.find(s[cur:limit])
		if !ok {
			return false
		}
		cur += end
	}
	return true
}

// prefix matches the segment at the start of s and returns where it ends.
func (sg *likeSeg) prefix(s string) (int, bool) {
	i := 0
	for j := range sg.elems {
		if i >= len(s) {
			return 0, false
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if !sg.elems[j].matchOne(r) {
			return 0, false
		}
		i += w
	}
	return i, true
}

// suffix matches the segment at the end of s and returns where it starts.
func (sg *likeSeg) suffix(s string) (int, bool) {
	i := len(s)
	for j := len(sg.elems) - 1; j >= 0; j-- {
		if i <= 0 {
			return 0, false
		}
		r, w := utf8.DecodeLastRuneInString(s[:i])
		if !sg.elems[j].matchOne(r) {
			return 0, false
		}
		i -= w
	}
	return i, true
}

// find returns the end of the segment's leftmost occurrence in s.
func (sg *likeSeg) find(s string) (int, bool) {
	var buf [8]uint64
	var d, m []uint64
	if sg.words <= len(buf)/2 {
		d, m = buf[:sg.words], buf[len(buf)/2:len(buf)/2+sg.words]
	} else {
		d, m = make([]uint64, sg.words), make([]uint64, sg.words)
	}
	k := len(sg.elems) - 1
	lastW, lastBit := k/64, uint64(1)<<(k%64)
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		sg.mask(m, r)
		carry := uint64(1)
		for x := range d {
			next := d[x] >> 63
			d[x] = (d[x]<<1 | carry) & m[x]
			carry = next
		}
		if d[lastW]&lastBit != 0 {
			return i, true
		}
	}
	return 0, false
}
