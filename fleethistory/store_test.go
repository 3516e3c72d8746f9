package fleethistory

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/history"
)

var t0 = time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func u32(v uint32) *uint32 { return &v }

func sess(host, id, user string, start time.Time) Session {
	return Session{Session: history.Session{Class: "Linux_LogonSession", LogonID: id, User: user, TTY: "pts/" + id,
		RemoteHost: "10.0.0.9", LogonType: u32(10), PID: 100, Start: start, Status: "OK",
		Path: `Linux_LogonSession.LogonId="` + id + `"`}, Host: host, UID: u32(1000), RemoteAddress: "10.0.0.9"}
}

func begin(msg string, s Session) Change {
	return Change{MsgID: msg, Kind: Begin, Time: s.Start, Session: s}
}

// finish ends s; its instance at deletion has its last Status ("Lost
// Comm" for a ghost).
func finish(msg string, s Session, end time.Time, how history.End) Change {
	if how == history.EndGhost {
		s.Status = "Lost Comm"
	}
	return Change{MsgID: msg, Kind: Finish, Time: end, Session: s, How: how}
}

func status(msg string, s Session, t time.Time, from, to string) Change {
	s.Status = to
	return Change{MsgID: msg, Kind: Update, Time: t, Session: s, PrevStatus: from}
}

func TestApplyIdempotentAndMerged(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	a := sess("web-1", "7", "alice", at(0))
	batch := []Change{
		begin("h1.a.1", a),
		status("h1.a.2", a, at(5), "OK", "Lost Comm"),
		finish("h1.a.3", a, at(70), history.EndGhost), // the next month
	}
	st, err := s.Apply(ctx, batch, 0)
	if err != nil || st.Applied != 3 || st.Duplicate != 0 {
		t.Fatalf("Apply = %+v, %v", st, err)
	}
	// Again, whole and in part, alone and mixed with a new one: no change.
	b := sess("web-1", "8", "bob", at(10))
	st, err = s.Apply(ctx, append(batch[1:], begin("h1.a.4", b)), 0)
	if err != nil || st.Applied != 1 || st.Duplicate != 2 {
		t.Fatalf("Apply again = %+v, %v", st, err)
	}
	rows, err := s.SessionList(ctx, Filter{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows = %v, %v", rows, err)
	}
	r := rows[0]
	if r.User != "alice" || r.Host != "web-1" || !r.Start.Equal(at(0)) || !r.End.Equal(at(70)) || r.How != history.EndGhost ||
		r.Status != "Lost Comm" || *r.UID != 1000 || *r.LogonType != 10 || r.RemoteAddress != "10.0.0.9" || r.TTY != "pts/7" || r.PID != 100 {
		t.Fatalf("row = %+v", r)
	}
	if !rows[1].Open() || rows[1].User != "bob" {
		t.Fatalf("bob = %+v", rows[1])
	}
	ch, err := s.StatusChanges(ctx, r.Key())
	if err != nil || len(ch) != 2 || ch[0].To != "OK" || ch[1].From != "OK" || ch[1].To != "Lost Comm" || !ch[1].At.Equal(at(5)) {
		t.Fatalf("status changes = %+v, %v", ch, err)
	}
	months, err := s.Partitions(ctx)
	if err != nil || len(months) != 2 {
		t.Fatalf("partitions = %v, %v", months, err)
	}
}

// TestApplyProps: a row keeps the newest valid props of its changes; a
// change with invalid JSON or none leaves them, and a row without any
// has none (NULL).
func TestApplyProps(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	a := sess("web-1", "7", "alice", at(0))
	a.Props = []byte(`{"class":"Linux_LogonSession","properties":{"LogonId":"7","Status":"OK"}}`)
	mid := status("p.2", a, at(1), "OK", "Degraded")
	mid.Session.Props = []byte(`{"class":"Linux_LogonSession","properties":{"LogonId":"7","Status":"Degraded","UserName":"<alice>"}}`)
	bad := status("p.3", a, at(2), "Degraded", "OK")
	bad.Session.Props = []byte(`{"class":`)
	none := finish("p.4", a, at(3), history.EndLogout)
	none.Session.Props = nil
	b := sess("web-1", "8", "bob", at(0))
	if _, err := s.Apply(ctx, []Change{none, bad, begin("p.1", a), mid, begin("p.5", b)}, 0); err != nil {
		t.Fatal(err)
	}
	rows, err := s.SessionList(ctx, Filter{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows = %v, %v", rows, err)
	}
	var got map[string]any
	if err := json.Unmarshal(rows[0].Props, &got); err != nil {
		t.Fatalf("props %s: %v", rows[0].Props, err)
	}
	if p := got["properties"].(map[string]any); p["Status"] != "Degraded" || p["UserName"] != "<alice>" {
		t.Fatalf("props = %s", rows[0].Props)
	}
	if rows[1].Props != nil {
		t.Fatalf("bob's props = %s, want none", rows[1].Props)
	}
}

func TestApplyOutOfOrder(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	a := sess("db-7", "3", "carol", at(0))
	// The end arrives first (another collector's batch), then the rest.
	gone := a
	gone.Status = "Degraded"
	if _, err := s.Apply(ctx, []Change{finish("m3", gone, at(9), history.EndLogout)}, 0); err != nil {
		t.Fatal(err)
	}
	late := a
	late.Status = "Degraded"
	if _, err := s.Apply(ctx, []Change{status("m2", a, at(4), "OK", "Degraded"), begin("m1", a)}, 0); err != nil {
		t.Fatal(err)
	}
	rows, err := s.SessionList(ctx, Filter{})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows = %v, %v", rows, err)
	}
	if r := rows[0]; !r.End.Equal(at(9)) || r.How != history.EndLogout || r.Status != "Degraded" {
		t.Fatalf("row = %+v", r)
	}
	// A change without a start finds its row.
	nostart := a
	nostart.Start = time.Time{}
	if _, err := s.Apply(ctx, []Change{status("m4", nostart, at(8), "Degraded", "OK")}, 0); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx); n != 1 {
		t.Fatalf("count = %d after a change without start", n)
	}
}

// TestStartMoves: a login seen first by its processes starts at the first
// process, then moves to sshd's utmp record time. Whatever the order in
// which the events are applied (in one batch, one by one, the old start's
// events late), the session is one row at the new start, with its Status
// changes.
func TestStartMoves(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	for i, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {2, 0, 1}} {
		id := fmt.Sprint(20 + i)
		early := sess("web-9", id, "dave", at(0).Add(-800*time.Millisecond))
		early.TTY = ""
		utmp := sess("web-9", id, "dave", at(0))
		moved := status("mv"+id+".2", utmp, at(1), "OK", "OK")
		moved.PrevStart = early.Start
		moved.Session.TTY = "pts/" + id
		changes := []Change{begin("mv"+id+".1", early), moved, finish("mv"+id+".3", utmp, at(30), history.EndLogout)}
		for _, j := range order {
			if _, err := s.Apply(ctx, []Change{changes[j]}, 0); err != nil {
				t.Fatal(err)
			}
		}
		// All at once, again: nothing changes.
		if _, err := s.Apply(ctx, changes, 0); err != nil {
			t.Fatal(err)
		}
		rows, err := s.SessionList(ctx, Filter{Host: "web-9", Classes: []string{"Linux_LogonSession"}})
		if err != nil {
			t.Fatal(err)
		}
		var mine []Session
		for _, r := range rows {
			if r.LogonID == id {
				mine = append(mine, r)
			}
		}
		if len(mine) != 1 || !mine[0].Start.Equal(at(0)) || !mine[0].End.Equal(at(30)) || mine[0].TTY != "pts/"+id {
			t.Fatalf("order %v: rows %+v", order, mine)
		}
		ch, err := s.StatusChanges(ctx, mine[0].Key())
		if err != nil || len(ch) != 1 || ch[0].To != "OK" {
			t.Fatalf("order %v: status changes %+v %v", order, ch, err)
		}
	}
	// In one batch.
	early := sess("web-9", "30", "erin", at(0).Add(-time.Second))
	utmp := sess("web-9", "30", "erin", at(0))
	moved := status("b30.2", utmp, at(1), "OK", "Degraded")
	moved.PrevStart = early.Start
	if _, err := s.Apply(ctx, []Change{begin("b30.1", early), moved}, 0); err != nil {
		t.Fatal(err)
	}
	rows, err := s.SessionList(ctx, Filter{User: "erin"})
	if err != nil || len(rows) != 1 || !rows[0].Start.Equal(at(0)) || !rows[0].Open() || rows[0].Status != "Degraded" {
		t.Fatalf("one batch: %+v %v", rows, err)
	}
}

func TestApplyRefusesBadChanges(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	good := sess("h", "1", "u", at(0))
	noHost := good
	noHost.Host = ""
	farFuture := good
	farFuture.Start = time.Now().AddDate(5, 0, 0)
	ancient := good
	ancient.Start = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := s.Apply(ctx, []Change{begin("a", noHost), begin("b", farFuture), begin("c", ancient), begin("", good)}, 0)
	if err != nil || st.Invalid != 4 || st.Applied != 0 {
		t.Fatalf("Apply = %+v, %v", st, err)
	}
	old := good
	old.Start = time.Now().AddDate(0, -3, 0)
	st, err = s.Apply(ctx, []Change{{MsgID: "d", Kind: Begin, Time: old.Start, Session: old}}, 30*24*time.Hour)
	if err != nil || st.Expired != 1 {
		t.Fatalf("Apply expired = %+v, %v", st, err)
	}
}

func TestConcurrentCollectorsNoLossNoDuplicate(t *testing.T) {
	s1, url := openStore(t)
	s2, err := Open(context.Background(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx := context.Background()
	// 200 sessions on 20 hosts, each a begin, a status change and an end;
	// both stores get every change, in batches of different sizes and
	// orders, as two collectors would after redeliveries.
	var all []Change
	for i := 0; i < 200; i++ {
		x := sess(fmt.Sprintf("host-%02d", i%20), fmt.Sprint(i), fmt.Sprintf("user%d", i%7), at(i))
		id := fmt.Sprintf("ev.%d.", i)
		gone := x
		gone.Status = "Degraded"
		all = append(all, begin(id+"1", x), status(id+"2", x, at(i+1), "OK", "Degraded"), finish(id+"3", gone, at(i+2), history.EndLogout))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	applied := 0
	run := func(s *Store, size int, reverse bool) {
		defer wg.Done()
		list := append([]Change(nil), all...)
		if reverse {
			for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
				list[i], list[j] = list[j], list[i]
			}
		}
		for i := 0; i < len(list); i += size {
			st, err := s.Apply(ctx, list[i:min(i+size, len(list))], 0)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			applied += st.Applied
			mu.Unlock()
		}
	}
	wg.Add(2)
	go run(s1, 37, false)
	go run(s2, 50, true)
	wg.Wait()
	if applied != len(all) {
		t.Fatalf("applied %d changes, want %d", applied, len(all))
	}
	rows, err := s1.SessionList(ctx, Filter{})
	if err != nil || len(rows) != 200 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		if r.Open() || r.Status != "Degraded" || !r.End.Equal(r.Start.Add(2*time.Minute)) {
			t.Fatalf("row %+v", r)
		}
	}
	var changes int
	if err := s1.pool.QueryRow(ctx, "SELECT count(*) FROM status_changes").Scan(&changes); err != nil || changes != 400 {
		t.Fatalf("status changes = %d, %v", changes, err)
	}
}

func TestQueries(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	a := sess("web-1.example.com", "1", "deploy", at(0))
	b := sess("web-2.example.com", "2", "deploy", at(30))
	b.RemoteAddress, b.RemoteHost = "192.168.5.5", "jump.example.com"
	c := sess("DB-7", "3", "root", at(10))
	c.Host = "db-7"
	c.RemoteAddress, c.RemoteHost = "2001:db8::5", "outside.example.org"
	if _, err := s.Apply(ctx, []Change{begin("1", a), finish("2", a, at(20), history.EndLogout), begin("3", b), begin("4", c),
		finish("5", c, at(60), history.EndCrash)}, 0); err != nil {
		t.Fatal(err)
	}
	names := func(f Filter) string {
		rows, err := s.SessionList(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, r := range rows {
			out += r.LogonID
		}
		return out
	}
	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, "132"},
		{Filter{Host: "web-*"}, "12"},
		{Filter{Host: "WEB-?.example.com"}, "12"},
		{Filter{Host: "db-7"}, "3"},
		{Filter{User: "deploy"}, "12"},
		{Filter{At: at(15)}, "13"},
		{Filter{At: at(20)}, "3"}, // a's end is not "open at"
		{Filter{Host: "db-7", At: at(59)}, "3"},
		{Filter{Since: at(25)}, "32"},
		{Filter{Until: at(5)}, "1"},
		{Filter{Since: at(21), Until: at(29)}, "3"},
		{Filter{From: "192.168.0.0/16"}, "2"},
		{Filter{From: "2001:db8::5"}, "3"},
		{Filter{From: "*.example.org"}, "3"},
		{Filter{From: "JUMP.example.com"}, "2"},
		{Filter{OpenOnly: true}, "2"},
		{Filter{Classes: []string{"linux_logonsession"}, Limit: 1}, "1"},
	} {
		if got := names(tc.f); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.f, got, tc.want)
		}
	}
	if _, err := s.SessionList(ctx, Filter{Since: at(10), Until: at(5)}); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("until before since: %v", err)
	}
	k := Key{Host: "db-7", Class: "Linux_LogonSession", LogonID: "3", Start: at(10)}
	if r, err := s.Session(ctx, k); err != nil || r.How != history.EndCrash {
		t.Errorf("Session = %+v, %v", r, err)
	}
	k.LogonID = "nope"
	if _, err := s.Session(ctx, k); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("missing Session: %v", err)
	}
}

// TestSessionsByLane: sessions come in rounds, each lane's newest first,
// so that a cut anywhere leaves every lane its newest: a lane of many
// sessions open since long ago (they came first in the old order) no
// longer takes a limit's every row.
func TestSessionsByLane(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	var cs []Change
	for i := range 6 { // db-1: six open sessions, older than any other
		cs = append(cs, begin("d"+strconv.Itoa(i), sess("db-1", "d"+strconv.Itoa(i), "postgres", at(i))))
	}
	for i := range 2 { // web-1: two ended, the newest
		x := sess("web-1", "w"+strconv.Itoa(i), "alice", at(100+i))
		cs = append(cs, begin("w"+strconv.Itoa(i), x), finish("we"+strconv.Itoa(i), x, at(110), history.EndLogout))
	}
	cs = append(cs, begin("b0", sess("web-2", "b0", "alice", at(50))))
	if _, err := s.Apply(ctx, cs, 0); err != nil {
		t.Fatal(err)
	}
	walk := func(f Filter, lane Lane) string {
		var out []string
		err := s.SessionsByLane(ctx, f, lane, func(r Ranked) error {
			if r.Props != nil {
				t.Errorf("%s has props", r.LogonID)
			}
			out = append(out, fmt.Sprintf("%s:%d/%d", r.LogonID, r.Rank, r.LaneTotal))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		f    Filter
		lane Lane
		want string
	}{
		{Filter{Limit: 5}, LaneHost, "d5:1/6 w1:1/2 b0:1/1 d4:2/6 w0:2/2"},
		{Filter{}, LaneUser, "w1:1/3 d5:1/6 w0:2/3 d4:2/6 b0:3/3 d3:3/6 d2:4/6 d1:5/6 d0:6/6"},
		{Filter{Host: "web-*"}, LaneHost, "w1:1/2 b0:1/1 w0:2/2"},
	} {
		if got := walk(tc.f, tc.lane); got != tc.want {
			t.Errorf("%+v by %s: %s, want %s", tc.f, tc.lane, got, tc.want)
		}
	}
	if err := s.SessionsByLane(ctx, Filter{}, "tty", func(Ranked) error { return nil }); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("lanes by tty: %v", err)
	}
}

func TestPartitionsAheadAndRetention(t *testing.T) {
	s, url := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	if err := s.EnsurePartitions(ctx, now, 2); err != nil {
		t.Fatal(err)
	}
	old := sess("h", "1", "u", time.Date(2026, 8, 10, 0, 0, 0, 0, time.UTC))
	mid := sess("h", "2", "u", time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC))
	if _, err := s.Apply(ctx, []Change{begin("o", old), begin("m", mid), finish("e", old, old.Start.Add(time.Hour), "")}, 0); err != nil {
		t.Fatal(err)
	}
	months, _ := s.Partitions(ctx)
	if len(months) != 5 { // 2026-08, 10, 12, 2027-01, 02
		t.Fatalf("partitions %v", months)
	}
	// Keep 60 days: everything that started before October goes.
	dropped, err := s.Retain(ctx, now, 60*24*time.Hour)
	if err != nil || len(dropped) != 1 || dropped[0].Month() != time.August {
		t.Fatalf("Retain = %v, %v", dropped, err)
	}
	rows, _ := s.SessionList(ctx, Filter{})
	if len(rows) != 1 || rows[0].LogonID != "2" {
		t.Fatalf("rows after retention %+v", rows)
	}
	// Another store whose cache still has August: it makes it again.
	s2, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Apply(ctx, []Change{begin("o2", old)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, []Change{begin("o3", sess("h", "3", "u", old.Start))}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Retain(ctx, now, 60*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Apply(ctx, []Change{begin("o4", sess("h", "4", "u", old.Start))}, 0); err != nil {
		t.Fatalf("Apply after another store's retention: %v", err)
	}
}

func TestOpenErrorsAndPasswordFile(t *testing.T) {
	url := newDB(t)
	ctx := context.Background()
	// A second open migrates nothing and works; two at once too.
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, url, Options{})
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	if _, err := Open(ctx, "postgres://postgres:s3cret@127.0.0.1:1/x?connect_timeout=2", Options{}); err == nil ||
		cim.CodeOf(err) == 0 || contains(err.Error(), "s3cret") {
		t.Errorf("unreachable: %v", err)
	}
	if _, err := Open(ctx, pg.URL("no_such_db"), Options{}); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("missing database: %v", err)
	}
	if got := Redact("postgres://u:topsecret@h/db?password=alsosecret"); contains(got, "secret") {
		t.Errorf("Redact = %s", got)
	}
	if got := Redact("host=h password=topsecret"); contains(got, "secret") {
		t.Errorf("Redact = %s", got)
	}
	pf := t.TempDir() + "/pw"
	if err := writeFile(pf, "anything\n"); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, url, Options{PasswordFile: pf}) // trust auth: accepted
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, url, Options{PasswordFile: pf + ".missing"}); err == nil {
		t.Error("missing password file accepted")
	}
}

// TestLeastPrivilegeRoles sets up the roles docs/architecture.md
// describes: a collector role that owns the schema it writes (and so may
// make and drop partitions) and nothing else, and a reader role that may
// only SELECT. The reader can answer queries — also from partitions made
// after its grant — and cannot write.
func TestLeastPrivilegeRoles(t *testing.T) {
	url := newDB(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	dbname := admin.Config().Database
	for _, q := range []string{
		"CREATE ROLE cimsess_collect LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE",
		"CREATE ROLE cimsess_read NOLOGIN",
		"CREATE ROLE alice_sec LOGIN IN ROLE cimsess_read",
		"REVOKE ALL ON SCHEMA public FROM PUBLIC",
		"CREATE SCHEMA cimsess AUTHORIZATION cimsess_collect",
		"ALTER ROLE cimsess_collect SET search_path = cimsess",
		"ALTER ROLE cimsess_read SET search_path = cimsess",
		"ALTER ROLE alice_sec SET search_path = cimsess",
		"REVOKE ALL ON DATABASE " + dbname + " FROM PUBLIC",
		"GRANT CONNECT ON DATABASE " + dbname + " TO cimsess_collect, cimsess_read",
		"GRANT USAGE ON SCHEMA cimsess TO cimsess_read",
		"ALTER DEFAULT PRIVILEGES FOR ROLE cimsess_collect IN SCHEMA cimsess GRANT SELECT ON TABLES TO cimsess_read",
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	as := func(role string) string {
		return strings.Replace(url, "postgres://postgres@", "postgres://"+role+"@", 1)
	}
	w, err := Open(ctx, as("cimsess_collect"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	a := sess("web-1", "1", "alice", at(0))
	if _, err := w.Apply(ctx, []Change{begin("lp.1", a)}, 0); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, as("alice_sec"), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// A month whose partitions the collector makes after the grants.
	late := sess("web-1", "2", "bob", at(0).AddDate(0, 3, 0))
	if _, err := w.Apply(ctx, []Change{begin("lp.2", late)}, 0); err != nil {
		t.Fatal(err)
	}
	rows, err := r.SessionList(ctx, Filter{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("reader: %v %v", rows, err)
	}
	if _, err := r.StatusChanges(ctx, rows[0].Key()); err != nil {
		t.Fatalf("reader's status changes: %v", err)
	}
	if _, err := r.Gaps(ctx, ""); err != nil {
		t.Fatalf("reader's gaps: %v", err)
	}
	_, err = r.Apply(ctx, []Change{begin("lp.3", sess("web-1", "3", "eve", at(1)))}, 0)
	if cim.CodeOf(err) != cim.ErrAccessDenied {
		t.Fatalf("reader's Apply: %v, want CIM_ERR_ACCESS_DENIED", err)
	}
	// A reader's pool of the collector's own role (the timeline's) writes
	// nothing either.
	wr, err := Open(ctx, as("cimsess_collect"), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer wr.Close()
	if _, err := wr.Apply(ctx, []Change{begin("lp.4", sess("web-1", "4", "eve", at(2)))}, 0); cim.CodeOf(err) != cim.ErrAccessDenied {
		t.Fatalf("the collector's role, read-only: %v, want CIM_ERR_ACCESS_DENIED", err)
	}
	// The collector applies retention: it owns the partitions.
	if _, err := w.Retain(ctx, at(0).AddDate(0, 6, 0), 60*24*time.Hour); err != nil {
		t.Fatalf("collector's retention: %v", err)
	}
}
