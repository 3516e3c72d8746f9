//go:build unix

package procfs

import (
	"errors"
	"io/fs"
	"syscall"
)

// reader reads small files with raw system calls and a buffer it keeps:
// os.Open would add a poller registration and allocations per file, which
// count when /proc holds thousands of processes.
type reader struct{ buf []byte }

// readFile returns the first max bytes of the file, in the reader's buffer
// (valid until the next read). Errors are *fs.PathError.
func (r *reader) readFile(path string, max int) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(r.buf) {
			if len(r.buf) >= max {
				break
			}
			r.buf = append(r.buf, make([]byte, len(r.buf))...)
		}
		m, err := syscall.Read(fd, r.buf[n:min(len(r.buf), max)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
		if n >= max {
			n = max
			break
		}
	}
	return r.buf[:n], nil
}

func isESRCH(err error) bool { return errors.Is(err, syscall.ESRCH) }
