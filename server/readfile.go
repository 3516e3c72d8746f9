package server

import (
	"io"
	"os"

	"github.com/cimsess/cimsess/cim"
)

// maxConfigFile bounds every file the server reads whole (--cert, --key,
// --users): /dev/zero or a huge file fails at once with a clear error
// instead of filling memory.
const maxConfigFile = 4 << 20

// readCapped reads a whole file of at most maxConfigFile bytes; what the
// file is for names it in the error.
func readCapped(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigFile {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "%s %s is over %d bytes: not a %s", what, path, maxConfigFile, what)
	}
	return data, nil
}
