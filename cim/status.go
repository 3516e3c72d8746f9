package cim

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Status is a CIM status code as DSP0200 defines them (1 to 28); 0 is success.
type Status int

// The CIM status codes.
const (
	StatusOK                           Status = 0
	ErrFailed                          Status = 1
	ErrAccessDenied                    Status = 2
	ErrInvalidNamespace                Status = 3
	ErrInvalidParameter                Status = 4
	ErrInvalidClass                    Status = 5
	ErrNotFound                        Status = 6
	ErrNotSupported                    Status = 7
	ErrClassHasChildren                Status = 8
	ErrClassHasInstances               Status = 9
	ErrInvalidSuperclass               Status = 10
	ErrAlreadyExists                   Status = 11
	ErrNoSuchProperty                  Status = 12
	ErrTypeMismatch                    Status = 13
	ErrQueryLanguageNotSupported       Status = 14
	ErrInvalidQuery                    Status = 15
	ErrMethodNotAvailable              Status = 16
	ErrMethodNotFound                  Status = 17
	ErrNamespaceNotEmpty               Status = 20
	ErrInvalidEnumerationContext       Status = 21
	ErrInvalidOperationTimeout         Status = 22
	ErrPullHasBeenAbandoned            Status = 23
	ErrPullCannotBeAbandoned           Status = 24
	ErrFilteredEnumerationNotSupported Status = 25
	ErrContinuationOnErrorNotSupported Status = 26
	ErrServerLimitsExceeded            Status = 27
	ErrServerIsShuttingDown            Status = 28
)

var statusNames = map[Status]string{
	StatusOK:                           "CIM_ERR_OK",
	ErrFailed:                          "CIM_ERR_FAILED",
	ErrAccessDenied:                    "CIM_ERR_ACCESS_DENIED",
	ErrInvalidNamespace:                "CIM_ERR_INVALID_NAMESPACE",
	ErrInvalidParameter:                "CIM_ERR_INVALID_PARAMETER",
	ErrInvalidClass:                    "CIM_ERR_INVALID_CLASS",
	ErrNotFound:                        "CIM_ERR_NOT_FOUND",
	ErrNotSupported:                    "CIM_ERR_NOT_SUPPORTED",
	ErrClassHasChildren:                "CIM_ERR_CLASS_HAS_CHILDREN",
	ErrClassHasInstances:               "CIM_ERR_CLASS_HAS_INSTANCES",
	ErrInvalidSuperclass:               "CIM_ERR_INVALID_SUPERCLASS",
	ErrAlreadyExists:                   "CIM_ERR_ALREADY_EXISTS",
	ErrNoSuchProperty:                  "CIM_ERR_NO_SUCH_PROPERTY",
	ErrTypeMismatch:                    "CIM_ERR_TYPE_MISMATCH",
	ErrQueryLanguageNotSupported:       "CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED",
	ErrInvalidQuery:                    "CIM_ERR_INVALID_QUERY",
	ErrMethodNotAvailable:              "CIM_ERR_METHOD_NOT_AVAILABLE",
	ErrMethodNotFound:                  "CIM_ERR_METHOD_NOT_FOUND",
	ErrNamespaceNotEmpty:               "CIM_ERR_NAMESPACE_NOT_EMPTY",
	ErrInvalidEnumerationContext:       "CIM_ERR_INVALID_ENUMERATION_CONTEXT",
	ErrInvalidOperationTimeout:         "CIM_ERR_INVALID_OPERATION_TIMEOUT",
	ErrPullHasBeenAbandoned:            "CIM_ERR_PULL_HAS_BEEN_ABANDONED",
	ErrPullCannotBeAbandoned:           "CIM_ERR_PULL_CANNOT_BE_ABANDONED",
	ErrFilteredEnumerationNotSupported: "CIM_ERR_FILTERED_ENUMERATION_NOT_SUPPORTED",
	ErrContinuationOnErrorNotSupported: "CIM_ERR_CONTINUATION_ON_ERROR_NOT_SUPPORTED",
	ErrServerLimitsExceeded:            "CIM_ERR_SERVER_LIMITS_EXCEEDED",
	ErrServerIsShuttingDown:            "CIM_ERR_SERVER_IS_SHUTTING_DOWN",
}

// String returns the DSP0200 name of the code, such as CIM_ERR_INVALID_CLASS.
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("CIM_ERR_%d", int(s))
}

// Error is the error every cimsess operation returns: a CIM status code and
// a description for people, and the Go error that caused it, if any (so
// that errors.Is(err, fs.ErrNotExist) still holds once an OS error is
// mapped). Use [errors.As] to get at it, or [CodeOf].
type Error struct {
	Code        Status
	Description string
	// Err is the cause, returned by Unwrap; its text is already part of
	// Description.
	Err error
}

// Error formats the error as "CIM_ERR_NAME: description".
func (e *Error) Error() string {
	d := e.Description
	if d == "" && e.Err != nil {
		d = e.Err.Error()
	}
	if d == "" {
		return e.Code.String()
	}
	return e.Code.String() + ": " + d
}

// Unwrap returns the cause, so that errors.Is and errors.As see through a
// *Error to the error it maps.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is a *Error with the same code, so that
// errors.Is(err, &cim.Error{Code: cim.ErrNotFound}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Description == "" || t.Description == e.Description)
}

// Errorf returns a *Error with the code and a formatted description,
// each argument clipped as Clipf does. A %w verb makes its operand the
// cause (see [Error.Unwrap]).
func Errorf(code Status, format string, args ...any) *Error {
	e := &Error{Code: code, Description: Clipf(strings.ReplaceAll(format, "%w", "%v"), args...)}
	if strings.Contains(format, "%w") {
		e.Err = errors.Unwrap(fmt.Errorf(format, args...))
	}
	return e
}

// Wrap turns any error into a *Error that keeps err as its cause. When a
// *Error is in err's chain, its code wins over code and the context that
// err adds around it ("provider linux, class X: …") stays in the
// description; a *Error itself is returned as it is. Anything else gets
// code.
func Wrap(code Status, err error) *Error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		if ce == err {
			return ce
		}
		code = ce.Code
	}
	return &Error{Code: code, Description: describe(err, ce), Err: err}
}

// Wrapf is Wrap with context: the description is the formatted text, ": ",
// and err's own description. Like Wrap it keeps err as the cause and the
// code of a *Error in err's chain, so context can be added to an error that
// already is a *Error without losing either.
func Wrapf(code Status, err error, format string, args ...any) *Error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		code = ce.Code
	}
	return &Error{Code: code, Description: fmt.Sprintf(format, args...) + ": " + describe(err, ce), Err: err}
}

// describe is err's text with the code of a *Error inside it left out, so
// that a wrapped *Error does not name its code twice.
func describe(err error, inner *Error) string {
	text := err.Error()
	if inner != nil {
		text = strings.Replace(text, inner.Error(), inner.Description, 1)
	}
	return text
}

// CodeOf returns the CIM status code of err: StatusOK for nil, the code of
// a *Error in its chain; for a plain Go error, CIM_ERR_NOT_FOUND when its
// chain holds fs.ErrNotExist, CIM_ERR_ACCESS_DENIED when it holds
// fs.ErrPermission, CIM_ERR_INVALID_PARAMETER when it holds fs.ErrInvalid
// (a reader asked to read in a layout that is none), and CIM_ERR_FAILED
// for anything else.
func CodeOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	var ce *Error
	switch {
	case errors.As(err, &ce):
		return ce.Code
	case errors.Is(err, fs.ErrNotExist):
		return ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		return ErrAccessDenied
	case errors.Is(err, fs.ErrInvalid):
		return ErrInvalidParameter
	}
	return ErrFailed
}

// Map turns an error of an OS reader (a plain, wrapped Go error) into a
// *Error once, with the code [CodeOf] gives it and err as its cause: the
// one place a provider maps what its readers return.
func Map(err error) *Error {
	if err == nil {
		return nil
	}
	return Wrap(CodeOf(err), err)
}
