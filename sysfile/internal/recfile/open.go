package recfile

import (
	"fmt"
	"io/fs"
	"os"
)

// Open opens the record file at path for reading, as last(1) and who(1)
// read one: it must be a regular file (a FIFO, a device or a socket is
// refused with an error that names what it is, rather than read
// forever or hung on), and it is read up to the size it had when opened,
// so that a file that grows meanwhile cannot keep a reader going. It
// returns the file and that size; errors are as [OpenError] maps them.
func Open(path, source string) (*os.File, int64, error) {
	// Opening a FIFO for reading blocks until a writer comes: open it
	// without blocking where the system allows, then look at what it is.
	f, err := openNonBlock(path)
	if err != nil {
		return nil, 0, OpenError(source, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, OpenError(source, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %s is %s, not a regular file: login records are read from regular files only", source, path, kindOf(fi.Mode()))
	}
	return f, fi.Size(), nil
}

// kindOf names the kind of a file that is not regular.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}
