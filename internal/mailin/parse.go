package mailin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
)

// Message is what certdesk reads of a received e-mail: never its HTML as
// HTML (an HTML part is reduced to its text), never a header beyond those
// named here.
type Message struct {
	// MessageID is the Message-ID header without its angle brackets ("" if
	// there is none).
	MessageID string
	// From is the address of the From header, lower case.
	From    string
	Subject string
	// Text is the message's text: its text/plain part, else the text of
	// its HTML part; quoted replies ("> " lines) and the signature ("-- ")
	// are left out.
	Text string
	// Attachments are the parts sent as files.
	Attachments []Attachment
	// AuthResults are the Authentication-Results headers, topmost (added
	// last, by the nearest relay) first.
	AuthResults []string
}

// Attachment is one file of a message.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// errMalformed is a message that cannot be read.
var errMalformed = errors.New("the message is not a readable MIME message")

// maxDepth bounds the nesting of multipart parts read.
const maxDepth = 8

// Parse reads a message. An attachment that would make more than
// maxAttachments is an error (*tooManyError), as is any attachment larger
// than maxAttachmentBytes (*tooLargeError).
func Parse(raw []byte, maxAttachments int, maxAttachmentBytes int64) (*Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, errMalformed
	}
	dec := &mime.WordDecoder{CharsetReader: charsetReader}
	m := &Message{}
	m.MessageID = strings.Trim(strings.TrimSpace(msg.Header.Get("Message-Id")), "<>")
	if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = strings.Join(strings.Fields(s), " ")
	} else {
		m.Subject = strings.Join(strings.Fields(msg.Header.Get("Subject")), " ")
	}
	m.Subject = strings.ToValidUTF8(m.Subject, "\uFFFD")
	if from, err := mail.ParseAddress(msg.Header.Get("From")); err == nil {
		m.From = strings.ToLower(from.Address)
	}
	m.AuthResults = msg.Header["Authentication-Results"]
	w := &walker{m: m, maxAttachments: maxAttachments, maxBytes: maxAttachmentBytes}
	if err := w.part(textproto(msg.Header), msg.Body, 0); err != nil {
		return nil, err
	}
	switch {
	case w.plain != "":
		m.Text = w.plain
	case w.html != "":
		m.Text = htmlText(w.html)
	}
	m.Text = trimReply(m.Text)
	return m, nil
}

// header is what a part's reading needs of its header.
type header interface{ Get(string) string }

func textproto(h mail.Header) header { return h }

type walker struct {
	m              *Message
	maxAttachments int
	maxBytes       int64
	plain, html    string
}

// tooManyError is a message with more attachments than allowed.
type tooManyError struct{ max int }

func (e *tooManyError) Error() string {
	return fmt.Sprintf("the message has more than %d attachments", e.max)
}

// tooLargeError is an attachment larger than allowed.
type tooLargeError struct {
	name string
	max  int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the attachment %q is larger than %d bytes", e.name, e.max)
}

func (w *walker) part(h header, body io.Reader, depth int) error {
	if depth > maxDepth {
		return errMalformed
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = "application/octet-stream", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if params["boundary"] == "" {
			return errMalformed
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return errMalformed
			}
			if err := w.part(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	data, err := io.ReadAll(decoded(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return errMalformed
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name != "" {
		if d, err := (&mime.WordDecoder{CharsetReader: charsetReader}).DecodeHeader(name); err == nil {
			name = d
		}
	}
	isText := (mt == "text/plain" || mt == "text/html") && disp != "attachment" && name == ""
	if isText {
		text := toUTF8(data, params["charset"])
		if mt == "text/plain" && w.plain == "" {
			w.plain = text
		} else if mt == "text/html" && w.html == "" {
			w.html = text
		}
		return nil
	}
	if name == "" {
		name = "attachment"
		if mt == "message/rfc822" {
			name = "message.eml"
		}
	}
	if len(w.m.Attachments) >= w.maxAttachments {
		return &tooManyError{max: w.maxAttachments}
	}
	if int64(len(data)) > w.maxBytes {
		return &tooLargeError{name: name, max: w.maxBytes}
	}
	w.m.Attachments = append(w.m.Attachments, Attachment{Filename: name, ContentType: mt, Data: data})
	return nil
}

// decoded undoes a part's transfer encoding.
func decoded(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &lineless{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// lineless drops line breaks and spaces, which base64 in mail carries.
type lineless struct{ r io.Reader }

func (l *lineless) Read(p []byte) (int, error) {
	for {
		n, err := l.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b != '\r' && b != '\n' && b != ' ' && b != '\t' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// charsetReader reads the charsets a header's encoded words may have:
// UTF-8 and ASCII as they are, Latin-1 (and Windows-1252, taken as
// Latin-1) converted; others are refused (the word stays encoded).
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(charset) {
	case "utf-8", "us-ascii", "iso-8859-1", "latin1", "windows-1252":
		return strings.NewReader(toUTF8(b, charset)), nil
	}
	return nil, fmt.Errorf("charset %q not read", charset)
}

// toUTF8 returns text in charset as UTF-8: Latin-1 is converted; invalid
// bytes of anything else become U+FFFD.
func toUTF8(b []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252":
		if !utf8.Valid(b) {
			r := make([]rune, len(b))
			for i, c := range b {
				r[i] = rune(c)
			}
			return string(r)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

var (
	blockEnd  = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|li|tr|h[1-6]|blockquote|pre|table)\s*>`)
	blankRuns = regexp.MustCompile(`\n{3,}`)
	textOnly  = bluemonday.StrictPolicy()
)

// htmlText is the text of an HTML part: every element removed (the
// content of script and style too), entities decoded; line breaks kept
// where blocks end. Nothing of it is ever served as HTML.
func htmlText(s string) string {
	s = blockEnd.ReplaceAllString(s, "$0\n")
	s = html.UnescapeString(textOnly.Sanitize(s))
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

// trimReply leaves out the quoted text of a reply ("> " lines and the
// "On … wrote:" line before them) and the signature after "-- ".
func trimReply(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var out []string
	for i, l := range lines {
		if l == "-- " || l == "--" {
			break
		}
		if strings.HasPrefix(l, ">") {
			continue
		}
		t := strings.TrimSpace(l)
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], ">") && (strings.HasSuffix(t, "wrote:") || strings.HasSuffix(t, "schrieb:")) {
			continue
		}
		out = append(out, strings.TrimRight(l, " \t"))
	}
	return strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(out, "\n"), "\n\n"))
}
