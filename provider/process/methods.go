package process

import (
	"context"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider/accounts"
	"github.com/cimsess/cimsess/sysfile/procfs"
)

// The return values of GetOwner and GetOwnerSid, as Microsoft documents
// them.
const (
	returnSuccess      = uint32(0)
	returnAccessDenied = uint32(2)
	returnPathNotFound = uint32(9)
)

var (
	uint32Type = cim.Type{Kind: cim.KindUint32}
	stringType = cim.Type{Kind: cim.KindString}
)

// methods are Win32_Process's read-only methods, as Microsoft declares
// them: GetOwner (User, Domain) and GetOwnerSid (Sid). Create, Terminate
// and the priority setters change the system and are not served.
var methods = []cim.Method{
	{Name: "GetOwner", ReturnType: uint32Type, Out: []cim.Property{{Name: "Domain", Type: stringType}, {Name: "User", Type: stringType}},
		Description: "The user name and domain under which the process runs."},
	{Name: "GetOwnerSid", ReturnType: uint32Type, Out: []cim.Property{{Name: "Sid", Type: stringType}},
		Description: "The security identifier of the process's owner: on Unix, S-1-22-1-UID as Samba and Windows map Unix users."},
}

// Methods returns GetOwner and GetOwnerSid.
func (p *Provider) Methods(class string) []cim.Method {
	return append([]cim.Method(nil), methods...)
}

// Invoke runs GetOwner or GetOwnerSid of a process: its effective user,
// read again from /proc, named as Win32_UserAccount names it (the host is
// the domain). A process gone since it was found answers 9 (path not
// found), as WMI's does.
func (p *Provider) Invoke(ctx context.Context, target *cim.Instance, m *cim.Method, in map[string]any) (cim.MethodResult, error) {
	if err := p.ready(ctx); err != nil {
		return cim.MethodResult{}, err
	}
	pid, ok := PIDOf(target.Path)
	if !ok {
		return cim.MethodResult{ReturnValue: returnPathNotFound}, nil
	}
	pr, err := p.fs.GetFields(pid, procfs.FieldEUID)
	if cim.CodeOf(err) == cim.ErrNotFound {
		return cim.MethodResult{ReturnValue: returnPathNotFound}, nil
	}
	if err != nil {
		return cim.MethodResult{ReturnValue: returnAccessDenied}, nil
	}
	switch m.Name {
	case "GetOwner":
		return cim.MethodResult{ReturnValue: returnSuccess, Out: []cim.PropertyValue{
			{Name: "Domain", Value: p.opts.Host}, {Name: "User", Value: p.opts.UserName(pr.EUID)}}}, nil
	case "GetOwnerSid":
		return cim.MethodResult{ReturnValue: returnSuccess, Out: []cim.PropertyValue{
			{Name: "Sid", Value: accounts.SID(pr.EUID)}}}, nil
	}
	return cim.MethodResult{}, cim.Errorf(cim.ErrMethodNotFound, "Win32_Process has no method %s", m.Name)
}
