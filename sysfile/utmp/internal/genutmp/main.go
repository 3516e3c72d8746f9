// Command genutmp writes a utmp file of plausible records, for
// benchmarks such as scripts/bench-who.sh:
//
//	go run ./sysfile/utmp/internal/genutmp -out FILE -n 10000 [-layout 384|400|384be|400be] [-pid 4000000]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/cimsess/cimsess/sysfile/utmp"
	"github.com/cimsess/cimsess/sysfile/utmp/internal/utmpgen"
)

func main() {
	out := flag.String("out", "", "file to write (required)")
	n := flag.Int("n", 10000, "number of records")
	layout := flag.String("layout", "native", "record layout: native, 384, 384be, 400 or 400be")
	pid := flag.Int("pid", 4000000, "process id of the first login (high ones do not exist)")
	flag.Parse()
	if *out == "" || *n < 0 {
		flag.Usage()
		os.Exit(2)
	}
	l := utmp.Native
	switch *layout {
	case "native":
	case "384":
		l = utmp.Layout384
	case "384be":
		l = utmp.Layout384BE
	case "400":
		l = utmp.Layout400
	case "400be":
		l = utmp.Layout{Size: 400, BigEndian: true}
	default:
		fmt.Fprintf(os.Stderr, "genutmp: unknown layout %q\n", *layout)
		os.Exit(2)
	}
	if err := utmp.WriteFile(*out, utmpgen.Records(*n, int32(*pid)), l); err != nil {
		fmt.Fprintln(os.Stderr, "genutmp:", err)
		os.Exit(1)
	}
}
