package box

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"
)

type wide struct {
	a, b int64
	s    string
}

func TestAtIsTheValue(t *testing.T) {
	s := "user0@pts/0"
	v := For[string]().At(&s)
	if got, ok := v.(string); !ok || got != "user0@pts/0" {
		t.Fatalf("v.(string) = %q, %v", got, ok)
	}
	if v != any("user0@pts/0") {
		t.Error("not equal to the same string boxed by the compiler")
	}
	if reflect.TypeOf(v) != reflect.TypeFor[string]() {
		t.Errorf("reflect.TypeOf = %v", reflect.TypeOf(v))
	}
	if got := fmt.Sprint(v); got != "user0@pts/0" {
		t.Errorf("fmt.Sprint = %q", got)
	}
	m := map[any]int{any("user0@pts/0"): 1}
	if m[v] != 1 {
		t.Error("not found as a map key boxed by the compiler")
	}

	n := uint32(4000000)
	if u, ok := For[uint32]().At(&n).(uint32); !ok || u != 4000000 {
		t.Errorf("uint32: %v, %v", u, ok)
	}
	w := wide{1, 2, "x"}
	if got, ok := For[wide]().At(&w).(wide); !ok || got != w {
		t.Errorf("struct: %v, %v", got, ok)
	}
	d := 90 * time.Second
	if got := For[time.Duration]().At(&d).(time.Duration); got != d {
		t.Errorf("duration: %v", got)
	}
}

// The interface refers to its slot: it is the slot that a caller must not
// write while the interface is in use.
func TestAtReadsTheSlot(t *testing.T) {
	slots := make([]string, 2)
	slots[0] = "first"
	v := For[string]().At(&slots[0])
	slots[0] = "second"
	if v.(string) != "second" {
		t.Errorf("v = %q, want the slot's value", v)
	}
}

// A slot's memory lives as long as an interface made of it, with nothing
// else pointing at it, and its string with it.
func TestAtKeepsTheSlotAlive(t *testing.T) {
	const n = 1000
	vals := make([]any, n)
	b := For[string]()
	for i := range vals {
		chunk := make([]string, 4) // reachable through the interface alone
		chunk[2] = fmt.Sprintf("value %d", i)
		vals[i] = b.At(&chunk[2])
	}
	for range 3 {
		runtime.GC()
		_ = make([]byte, 1<<20) // reuse what was freed
	}
	for i, v := range vals {
		if want := fmt.Sprintf("value %d", i); v.(string) != want {
			t.Fatalf("vals[%d] = %q, want %q", i, v, want)
		}
	}
}

func TestForRefusesWhatAnInterfaceHoldsItself(t *testing.T) {
	for name, f := range map[string]func(){
		"pointer":     func() { For[*int]() },
		"map":         func() { For[map[string]int]() },
		"chan":        func() { For[chan int]() },
		"func":        func() { For[func()]() },
		"struct of 1": func() { For[struct{ p *int }]() },
		"array of 1":  func() { For[[1]*int]() },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func BenchmarkBox(b *testing.B) {
	strs := make([]string, 64)
	s := "user0 on pts/0 from host-1.example.org"
	var sink any
	b.Run("compiler", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			strs[i%64] = s
			sink = strs[i%64]
		}
	})
	bx := For[string]()
	b.Run("At", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			strs[i%64] = s
			sink = bx.At(&strs[i%64])
		}
	})
	_ = sink
}

func TestString(t *testing.T) {
	buf := make([]byte, 0, 16)
	buf = append(buf, "alice@pts/0"...)
	s := String(buf)
	if s != "alice@pts/0" {
		t.Fatalf("String = %q", s)
	}
	buf[0] = 'A' // the string is the bytes: the caller's contract
	if s != "Alice@pts/0" {
		t.Errorf("String does not share the bytes: %q", s)
	}
	if String(nil) != "" || String(buf[:0]) != "" {
		t.Error("empty")
	}
}
