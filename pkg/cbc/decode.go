package cbc

import (
	"encoding/json"
	"fmt"
	"io"
)

// decodeEnvelope reads {"num_found", "num_available", "results": [...]} token by token and hands each record to
// onRecord as it is decoded, so memory follows the records the caller keeps rather than the bytes read.
func decodeEnvelope(r io.Reader, onRecord func(Record)) (numFound, numAvailable int, err error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return 0, 0, err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return 0, 0, eofIsUnexpected(err)
		}
		switch key {
		case "num_found":
			err = dec.Decode(&numFound)
		case "num_available":
			err = dec.Decode(&numAvailable)
		case "results":
			err = decodeRecords(dec, onRecord)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return 0, 0, eofIsUnexpected(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return 0, 0, eofIsUnexpected(err)
	}
	return numFound, numAvailable, nil
}

func decodeRecords(dec *json.Decoder, onRecord func(Record)) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // "results": null
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("results is %v, not a list", tok)
	}
	for dec.More() {
		var rec Record
		if err := dec.Decode(&rec); err != nil {
			return err
		}
		onRecord(rec)
	}
	_, err = dec.Token()
	return err
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return eofIsUnexpected(err)
	}
	if tok != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

// eofIsUnexpected reports a body that ends early as truncated, whichever token it ended in.
func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
