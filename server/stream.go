package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimxml"
)

// A CIM-XML response goes out as it is made (DSP0200 §7.4 allows a chunked
// response): the operations render instances batch by batch as the
// object manager streams them (cimom.StreamInstances), and after each
// batch what was rendered is passed on. How it leaves depends on what the
// client can take:
//
//   - TE: trailers (HTTP/1.1): chunked from the first block on, with the
//     CIMStatusCode and CIMStatusCodeDescription trailers. An error found
//     once part of the answer is on the wire ends the body where it is and
//     is told in the trailers, as DSP0200 specifies; the client discards
//     the partial body.
//   - HTTP/1.1 without TE: trailers: a response that fits in spillAt bytes
//     is sent whole with a Content-Length (an error is an ERROR element in
//     it, as always); a longer one goes out chunked from then on. An error
//     after the first byte cannot be told in-band: the connection is cut
//     before the last chunk, so that the client sees a broken response,
//     never a short one that looks whole.
//   - HTTP/1.0 (no chunks): held whole and sent with a Content-Length, up
//     to MaxBufferedResponseBytes; beyond, the call fails with
//     CIM_ERR_FAILED saying so.
//
// An error found before anything of the call left is written as the
// call's ERROR element in every case: what the call had rendered is
// dropped (rewind). A write that fails (the client went away) or a
// cancelled request stops the operation within one batch, which stops the
// provider (the batch's emit returns the error).

// spillAt is how much of an answer is held before it goes out chunked to
// an HTTP/1.1 client that did not ask for trailers.
const spillAt = 64 << 10

// drainAt is how much the encoder holds before it is passed on.
const drainAt = 32 << 10

// DefaultMaxBufferedResponseBytes bounds the response held for a client
// that cannot take a chunked one (HTTP/1.0).
const DefaultMaxBufferedResponseBytes = 64 << 20

// errClientGone is what a write to a client that went away gives.
var errClientGone = errors.New("the client went away")

// responseStream passes a response's bytes to the client as the framing
// it can take allows (see above), and counts them.
type responseStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	// held is what was rendered and is not on the wire yet.
	held []byte
	// wire is the number of bytes on the wire (or in net/http's buffers).
	wire int64
	// started: the header is written, the body is chunked.
	started bool
	// chunked: the client takes a chunked response; trailers: with
	// trailers, and from the first byte on.
	chunked, trailers bool
	// max bounds held when the response cannot be chunked.
	max int64
	// writeTimeout is the time each write may take.
	writeTimeout time.Duration
	// err is the first write error; nothing more is written after it.
	err error
}

// offset is the position of the encoder's end in the whole response.
func (o *responseStream) offset(enc *cimxml.Encoder) int64 {
	return o.wire + int64(len(o.held)) + int64(len(enc.Bytes()))
}

// drain passes on what the encoder holds once it holds drainAt bytes (or
// always, with force), and returns the error that must stop the
// operation: a write error, or a response over the buffered bound.
func (o *responseStream) drain(enc *cimxml.Encoder, force bool) error {
	if o.err != nil {
		return o.err
	}
	b := enc.Bytes()
	if len(b) == 0 || (!force && len(b) < drainAt) {
		return nil
	}
	if !o.started && o.chunked && (o.trailers || len(o.held)+len(b) >= spillAt) {
		o.start()
	}
	if o.started {
		if len(o.held) > 0 {
			o.write(o.held)
			o.held = o.held[:0]
		}
		o.write(b)
		if o.err == nil {
			o.err = o.flush()
		}
	} else {
		if !o.chunked && int64(len(o.held)+len(b)) > o.max {
			return cim.Errorf(cim.ErrFailed, "the response is over %d bytes, more than is held for a client that cannot take a chunked response (HTTP/1.0); use HTTP/1.1", o.max)
		}
		o.held = append(o.held, b...)
	}
	enc.Reset(nil)
	return o.err
}

// start writes the header of a chunked response.
func (o *responseStream) start() {
	o.started = true
	o.w.WriteHeader(http.StatusOK)
}

// write writes p to the client, each write with writeTimeout of its own:
// a slow client that keeps reading is served to the end, one that stops
// reading is dropped after writeTimeout.
func (o *responseStream) write(p []byte) {
	if o.err != nil {
		return
	}
	if o.writeTimeout > 0 {
		_ = o.rc.SetWriteDeadline(time.Now().Add(o.writeTimeout))
	}
	n, err := o.w.Write(p)
	o.wire += int64(n)
	if err != nil {
		o.err = cim.Errorf(cim.ErrFailed, "%v: %v", errClientGone, err)
	}
}

// flush pushes what net/http buffers onto the connection.
func (o *responseStream) flush() error {
	if err := o.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return cim.Errorf(cim.ErrFailed, "%v: %v", errClientGone, err)
	}
	return nil
}

// rewind drops what was rendered after offset off, if none of it is on
// the wire yet; false when some is (the error is late).
func (o *responseStream) rewind(enc *cimxml.Encoder, off int64) bool {
	if off < o.wire {
		return false
	}
	rel := off - o.wire
	if rel <= int64(len(o.held)) {
		o.held = o.held[:rel]
		enc.Reset(nil)
		return true
	}
	enc.Truncate(int(rel - int64(len(o.held))))
	return true
}

// finish sends the end of the response: the rest of the body, then the
// trailers (status is the first error's, nil for success) or, for a
// response held whole, the Content-Length and the body. A late error
// without trailers cuts the connection (see above).
func (o *responseStream) finish(h http.Header, prefix string, enc *cimxml.Encoder, status *cim.Error, late bool) {
	if late {
		if o.trailers {
			if o.err == nil {
				o.err = o.flush()
			}
			o.setTrailers(h, prefix, status)
			return
		}
		if o.started {
			// A chunked body that cannot say it failed: end it without
			// its last chunk (net/http closes the connection).
			panic(http.ErrAbortHandler)
		}
	}
	if o.trailers || o.started {
		_ = o.drain(enc, true)
		if !o.started { // an empty body
			o.start()
		}
		o.setTrailers(h, prefix, status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(o.held)+len(enc.Bytes())))
	o.w.WriteHeader(http.StatusOK)
	o.write(o.held)
	o.write(enc.Bytes())
}

func (o *responseStream) setTrailers(h http.Header, prefix string, status *cim.Error) {
	if !o.trailers {
		return
	}
	if status == nil {
		h.Set(prefix+"CIMStatusCode", "0")
		return
	}
	h.Set(prefix+"CIMStatusCode", strconv.Itoa(int(status.Code)))
	h.Set(prefix+"CIMStatusCodeDescription", status.Description)
}
