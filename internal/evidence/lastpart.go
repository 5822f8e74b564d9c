package evidence

import (
	"io"
	"mime/multipart"
)

// LastPart reads the file part of a multipart form and then requires the
// form to end: a part after the file is refused, so that nothing the
// client sent is silently dropped, and a body cut short is an error rather
// than a truncated file. Both transports (the API and the web UI's forms)
// stream uploads through it.
type LastPart struct {
	Part *multipart.Part
	Form *multipart.Reader
	// More is the error when another part follows the file.
	More error
	// Wrap classifies an error reading the body (nil: as it is).
	Wrap func(error) error
	done bool
}

func (l *LastPart) Read(b []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	n, err := l.Part.Read(b)
	if err == io.EOF {
		l.done = true
		switch _, nerr := l.Form.NextPart(); {
		case nerr == io.EOF:
			return n, io.EOF
		case nerr == nil:
			return n, l.More
		default:
			return n, l.wrap(nerr)
		}
	}
	if err != nil {
		return n, l.wrap(err)
	}
	return n, nil
}

func (l *LastPart) wrap(err error) error {
	if l.Wrap == nil {
		return err
	}
	return l.Wrap(err)
}
