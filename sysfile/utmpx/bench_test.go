package utmpx

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkReader reads a file of 1000 macOS records.
func BenchmarkReader(b *testing.B) {
	one, _ := file(Darwin)
	data := bytes.Repeat(one, 200)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rd := NewReader(bytes.NewReader(data), Darwin)
		for {
			if _, err := rd.Next(); err == io.EOF {
				break
			}
		}
	}
}
