package process

import (
	"context"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/schema"
)

// microsoftProperties are the properties Microsoft documents for
// Win32_Process.
var microsoftProperties = []string{"CreationClassName", "Caption", "CommandLine", "CreationDate", "CSCreationClassName",
	"CSName", "Description", "ExecutablePath", "ExecutionState", "Handle", "HandleCount", "InstallDate", "KernelModeTime",
	"MaximumWorkingSetSize", "MinimumWorkingSetSize", "Name", "OSCreationClassName", "OSName", "OtherOperationCount",
	"OtherTransferCount", "PageFaults", "PageFileUsage", "ParentProcessId", "PeakPageFileUsage", "PeakVirtualSize",
	"PeakWorkingSetSize", "Priority", "PrivatePageCount", "ProcessId", "QuotaNonPagedPoolUsage", "QuotaPagedPoolUsage",
	"QuotaPeakNonPagedPoolUsage", "QuotaPeakPagedPoolUsage", "ReadOperationCount", "ReadTransferCount", "SessionId",
	"Status", "TerminationDate", "ThreadCount", "UserModeTime", "VirtualSize", "WindowsVersion", "WorkingSetSize",
	"WriteOperationCount", "WriteTransferCount"}

// TestWin32ProcessAsMicrosoft: the class declares every property of
// Microsoft's page, the provider fills what /proc knows, and GetOwner and
// GetOwnerSid answer through the object manager's method path.
func TestWin32ProcessAsMicrosoft(t *testing.T) {
	c, err := schema.MustDefault().Class(ClassName)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range microsoftProperties {
		if c.Property(n) == nil {
			t.Errorf("Win32_Process lacks %s", n)
		}
	}
	if len(c.Properties) != len(microsoftProperties) {
		t.Errorf("Win32_Process has %d properties, Microsoft's %d", len(c.Properties), len(microsoftProperties))
	}
	p := newProvider(t, writeProcfs(t, fixture))
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "h1"}, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in, err := om.GetInstance(ctx, p.Path(401))
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range map[string]any{"CreationClassName": "Win32_Process", "CSCreationClassName": "Win32_ComputerSystem",
		"OSCreationClassName": "Win32_OperatingSystem", "PageFaults": uint32(100), "Priority": uint32(8), "WindowsVersion": nil} {
		if g := in.Value(k); !(g == nil && w == nil) && !cim.Equal(g, w) {
			t.Errorf("%s = %#v, want %#v", k, g, w)
		}
	}
	res, err := om.InvokeMethod(ctx, cim.ObjectPath{ClassName: "Win32_Process", Keys: []cim.KeyBinding{{Value: int64(401)}}}, "getowner", nil)
	if err != nil || res.ReturnValue != uint32(0) || len(res.Out) != 2 || res.Out[0].Value != "h1" || res.Out[1].Value != "alice" {
		t.Errorf("GetOwner = %+v, %v", res, err)
	}
	res, err = om.InvokeMethod(ctx, p.Path(401), "GetOwnerSid", nil)
	if err != nil || len(res.Out) != 1 || res.Out[0].Value != "S-1-22-1-1000" {
		t.Errorf("GetOwnerSid = %+v, %v", res, err)
	}
	if _, err := om.InvokeMethod(ctx, p.Path(401), "Terminate", nil); cim.CodeOf(err) != cim.ErrMethodNotFound {
		t.Errorf("Terminate: %v", err)
	}
	if _, err := om.InvokeMethod(ctx, p.Path(999), "GetOwner", nil); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("GetOwner of a missing process: %v", err)
	}
	if _, err := om.InvokeMethod(ctx, cim.ObjectPath{ClassName: "Win32_Process"}, "GetOwner", nil); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("GetOwner of the class: %v", err)
	}
	for _, tc := range []struct {
		prio, nice int64
		want       uint32
	}{{-51, 0, 24}, {20, -20, 13}, {20, -10, 10}, {20, 0, 8}, {20, 10, 6}, {20, 19, 4}} {
		if got := windowsPriority(tc.prio, tc.nice); got != tc.want {
			t.Errorf("windowsPriority(%d, %d) = %d, want %d", tc.prio, tc.nice, got, tc.want)
		}
	}
}
