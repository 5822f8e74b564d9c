package evidence

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// form writes a multipart form: each field in order, "file" as a file.
func form(t *testing.T, fields ...[2]string) (*multipart.Reader, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		var part io.Writer
		var err error
		if f[0] == "file" {
			part, err = w.CreateFormFile("file", "note.txt")
		} else {
			part, err = w.CreateFormField(f[0])
		}
		require.NoError(t, err)
		_, err = io.WriteString(part, f[1])
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return multipart.NewReader(bytes.NewReader(buf.Bytes()), w.Boundary()), buf.Bytes()
}

// The file as the form's last part reads whole; a part after it is the
// More error, not a silently dropped field; a body cut short inside the
// file is an error (through Wrap), never a shorter file.
func TestLastPartRequiresTheFileToEndTheForm(t *testing.T) {
	more := errors.New("the file must be the last part")
	wrapped := errors.New("cut short")
	wrap := func(error) error { return wrapped }

	mr, _ := form(t, [2]string{"description", "the note"}, [2]string{"file", "pay us"})
	_, err := mr.NextPart()
	require.NoError(t, err)
	part, err := mr.NextPart()
	require.NoError(t, err)
	got, err := io.ReadAll(&LastPart{Part: part, Form: mr, More: more, Wrap: wrap})
	require.NoError(t, err)
	require.Equal(t, "pay us", string(got))

	mr, _ = form(t, [2]string{"file", "pay us"}, [2]string{"description", "after"})
	part, err = mr.NextPart()
	require.NoError(t, err)
	_, err = io.ReadAll(&LastPart{Part: part, Form: mr, More: more, Wrap: wrap})
	require.ErrorIs(t, err, more)

	_, body := form(t, [2]string{"file", strings.Repeat("x", 10_000)})
	boundary := string(body[2:bytes.IndexByte(body, '\r')])
	mr = multipart.NewReader(bytes.NewReader(body[:len(body)/2]), boundary)
	part, err = mr.NextPart()
	require.NoError(t, err)
	got, err = io.ReadAll(&LastPart{Part: part, Form: mr, More: more, Wrap: wrap})
	require.ErrorIs(t, err, wrapped)
	require.Less(t, len(got), 10_000)
}
