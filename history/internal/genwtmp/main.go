// Command genwtmp writes a wtmp file of plausible login history, for
// scripts/bench-last.sh and the history's tests:
//
//	go run ./history/internal/genwtmp -out FILE -n 100000 [-shape busy|few] [-layout native|384|384be|400|400be]
//
// Shape busy is a busy server: up to 40 sessions at a time on pts/N lines
// the kernel reuses (the lowest free number), each a login and its logout
// some minutes later, a shutdown and a boot every 2,000 sessions. Shape
// few is the pathological one of issue 11: 5 terminals carrying every
// session, a boot (with no shutdown: a crash) every 50 sessions. Both are
// the same for the same arguments.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

func main() {
	out := flag.String("out", "", "file to write (required)")
	n := flag.Int("n", 100000, "number of records")
	shape := flag.String("shape", "busy", "busy or few")
	layout := flag.String("layout", "native", "record layout: native, 384, 384be, 400 or 400be")
	flag.Parse()
	l, ok := map[string]utmp.Layout{"native": utmp.Native, "384": utmp.Layout384, "384be": utmp.Layout384BE,
		"400": utmp.Layout400, "400be": {Size: 400, BigEndian: true}}[*layout]
	if *out == "" || *n < 0 || !ok || (*shape != "busy" && *shape != "few") {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genwtmp:", err)
		os.Exit(1)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := utmp.NewWriter(bw, l)
	g := gen{n: *n, few: *shape == "few", w: w, t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), seed: 12345}
	err = g.run()
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genwtmp:", err)
		os.Exit(1)
	}
}

type session struct {
	line string
	pid  int32
	end  time.Time
}

type gen struct {
	n, written int
	few        bool
	w          *utmp.Writer
	t          time.Time
	seed       uint32
	pid        int32
	sessions   int
	open       []session // open sessions, at most one per line
}

func (g *gen) rnd(k uint32) uint32 {
	g.seed = g.seed*1664525 + 1013904223
	return (g.seed >> 8) % k
}

func (g *gen) put(r utmp.Record) error {
	if g.written >= g.n {
		return nil
	}
	g.written++
	return g.w.Write(r)
}

func (g *gen) boot(shutdown bool) error {
	if shutdown {
		g.t = g.t.Add(time.Minute)
		if err := g.put(utmp.Record{Type: utmp.RunLevel, PID: '0', Line: "~", ID: "~~", User: "shutdown", Host: "6.1.0-bench", Time: g.t}); err != nil {
			return err
		}
	}
	g.open = g.open[:0]
	g.t = g.t.Add(2 * time.Minute)
	if err := g.put(utmp.Record{Type: utmp.BootTime, Line: "~", ID: "~~", User: "reboot", Host: "6.1.0-bench", Time: g.t}); err != nil {
		return err
	}
	return g.put(utmp.Record{Type: utmp.RunLevel, PID: 'N'<<8 | '5', Line: "~", ID: "~~", User: "runlevel", Host: "6.1.0-bench", Time: g.t.Add(time.Second)})
}

// freeLine returns the lowest pts number no open session holds (busy), or
// one of five terminals (few).
func (g *gen) freeLine() string {
	if g.few {
		return "pts/" + strconv.Itoa(int(g.rnd(5)))
	}
	for k := 0; ; k++ {
		line := "pts/" + strconv.Itoa(k)
		used := false
		for _, s := range g.open {
			if s.line == line {
				used = true
				break
			}
		}
		if !used {
			return line
		}
	}
}

func (g *gen) logout(i int) error {
	s := g.open[i]
	g.open = append(g.open[:i], g.open[i+1:]...)
	return g.put(utmp.Record{Type: utmp.DeadProcess, PID: s.pid, Line: s.line, ID: idOf(s.line), Time: s.end})
}

func idOf(line string) string { return line[len(line)-min(4, len(line)):] }

func (g *gen) run() error {
	if err := g.boot(false); err != nil {
		return err
	}
	every := 2000
	if g.few {
		every = 50
	}
	for g.written < g.n {
		g.t = g.t.Add(time.Duration(g.rnd(90)+1)*time.Second + time.Duration(g.rnd(1000000))*time.Microsecond)
		// Logouts that are due, oldest first.
		for {
			k := -1
			for i, s := range g.open {
				if !s.end.After(g.t) && (k < 0 || s.end.Before(g.open[k].end)) {
					k = i
				}
			}
			if k < 0 {
				break
			}
			if err := g.logout(k); err != nil {
				return err
			}
		}
		if g.sessions > 0 && g.sessions%every == 0 {
			g.sessions++
			if err := g.boot(!g.few); err != nil {
				return err
			}
			continue
		}
		if len(g.open) >= 40 {
			continue
		}
		line := g.freeLine()
		if g.few {
			// A login on a busy terminal ends the session there, as last takes it.
			for i, s := range g.open {
				if s.line == line {
					g.open = append(g.open[:i], g.open[i+1:]...)
					break
				}
			}
		}
		g.sessions++
		g.pid++
		k := g.sessions
		r := utmp.Record{Type: utmp.UserProcess, PID: 1000 + g.pid%4000000, Line: line, ID: idOf(line),
			User: "user" + strconv.Itoa(k%97), Session: int64(k), Time: g.t}
		switch k % 3 {
		case 0:
			r.Addr = netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)})
			r.Host = r.Addr.String()
		case 1:
			r.Addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(k >> 24), 13: byte(k >> 16), 14: byte(k >> 8), 15: byte(k)})
			r.Host = "host-" + strconv.Itoa(k%5000) + ".example.org"
		}
		if err := g.put(r); err != nil {
			return err
		}
		g.open = append(g.open, session{line: line, pid: r.PID, end: g.t.Add(time.Duration(g.rnd(3600)+5) * time.Second)})
	}
	return nil
}
