//go:build !unix

package procfs

import (
	"io"
	"os"
)

// reader reads small files into a buffer it keeps.
type reader struct{ buf []byte }

// readFile returns the first max bytes of the file, in the reader's buffer
// (valid until the next read).
func (r *reader) readFile(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n := 0
	for {
		if n == len(r.buf) {
			if len(r.buf) >= max {
				break
			}
			r.buf = append(r.buf, make([]byte, len(r.buf))...)
		}
		m, err := f.Read(r.buf[n:min(len(r.buf), max)])
		n += m
		if err == io.EOF || n >= max {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return r.buf[:min(n, max)], nil
}

func isESRCH(error) bool { return false }
