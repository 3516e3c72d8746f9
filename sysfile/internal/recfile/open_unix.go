//go:build unix

package recfile

import (
	"os"
	"syscall"
)

func openNonBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
