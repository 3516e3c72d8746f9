//go:build !unix

package recfile

import "os"

func openNonBlock(path string) (*os.File, error) { return os.Open(path) }
