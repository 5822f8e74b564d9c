package spreadsheet

import (
	"encoding/csv"
	"io"
)

// WritePages streams a paged list as CSV: the header, then each page's
// rows (every cell through Safe), flushed page by page, until the list
// ends or max rows are written (in whole pages). first and next are the
// list's first page and cursor, read by the caller before the response
// started (so that a bad filter is still an error page); more reads the
// page after a cursor. An error after that ends the file where it is —
// the status is already sent — and is returned for the log.
func WritePages[T any](w io.Writer, header []string, first []T, next string, more func(after string) ([]T, string, error),
	row func(*T) []string, max int) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	rows, page := 0, first
	for {
		for i := range page {
			_ = cw.Write(Safe(row(&page[i])))
			rows++
		}
		cw.Flush()
		if err := cw.Error(); err != nil || next == "" || rows >= max {
			return err
		}
		var err error
		if page, next, err = more(next); err != nil {
			return err
		}
	}
}
