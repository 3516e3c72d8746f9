package utmp

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// countingReader counts the reads of a file held in memory.
type countingReader struct {
	*bytes.Reader
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.Reader.ReadAt(p, off)
}

// TestSampledReader checks that the reads CheckLayout makes through
// sampled read what the file holds, wherever they fall (the stretches
// read ahead, between them, across their ends, beyond the file), and
// that the records fit samples cost two reads of the file, not one each.
func TestSampledReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int64{0, 1, 383, 400, 26000, 52001, 60000, 400 * 1000} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		file := &countingReader{Reader: bytes.NewReader(data)}
		s := sampled(file, size)
		ahead := file.reads
		if ahead > 2 {
			t.Errorf("size %d: %d reads to sample", size, ahead)
		}
		for _, l := range Layouts {
			fit(s, size, l, time.Now())
		}
		if file.reads != ahead {
			t.Errorf("size %d: fit read the file %d more times", size, file.reads-ahead)
		}
		for range 2000 {
			off := rng.Int64N(size + 500)
			n := rng.IntN(900)
			if rng.IntN(4) == 0 { // near the ends of the stretches
				off = size - int64(rng.IntN(30000))
			}
			want := make([]byte, n)
			wn, werr := file.ReadAt(want, off)
			got := make([]byte, n)
			gn, gerr := s.ReadAt(got, off)
			if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (gerr == nil) != (werr == nil) {
				t.Fatalf("size %d: ReadAt(%d bytes at %d) = %d, %v; the file's %d, %v", size, n, off, gn, gerr, wn, werr)
			}
		}
	}
}
