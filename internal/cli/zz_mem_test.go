package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestZZMem(t *testing.T) {
	f := os.Getenv("ZZ_UTMP")
	if f == "" {
		t.Skip()
	}
	debug.SetGCPercent(100)
	done := make(chan bool)
	go func() {
		start := time.Now()
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b, _ := os.ReadFile("/proc/self/status")
			rss := ""
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "RssAnon") {
					rss = strings.Fields(l)[1]
				}
			}
			fmt.Printf("%5dms anon %s KiB heapSys-rel %d inuse %d idle-rel %d gc %d gcsys %d\n", time.Since(start).Milliseconds(), rss, (m.HeapSys-m.HeapReleased)>>10, m.HeapInuse>>10, (m.HeapIdle-m.HeapReleased)>>10, m.NumGC, m.GCSys>>10)
		}
	}()
	if rc := Main([]string{"enum", "Win32_LogonSession", "--utmp", f, "-o", "csv"}, nil, io.Discard, io.Discard); rc != 0 {
		t.Fatal(rc)
	}
	close(done)
}
