package access

import (
	"io"
	"os"

	"github.com/cimsess/cimsess/cim"
)

// MaxConfigFile bounds every file the servers read whole (--cert, --key,
// --users): /dev/zero or a huge file fails at once with a clear error
// instead of filling memory.
const MaxConfigFile = 4 << 20

// ReadCapped reads a whole file of at most MaxConfigFile bytes; what the
// file is for names it in the error (CIM_ERR_INVALID_PARAMETER when it is
// longer; the open's or read's own error otherwise).
func ReadCapped(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxConfigFile {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "%s %s is over %d bytes: not a %s", what, path, MaxConfigFile, what)
	}
	return data, nil
}
