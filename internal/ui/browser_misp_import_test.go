package ui_test

import (
	"net/http"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

func init() {
	walks["misp-import"] = mispImportWalk
}

// mispImportWalk is the MISP import in the shared walk: the CERT
// responder's form, its errors (nothing chosen), and what an import of
// a file as a new incident did.
func mispImportWalk(w *demoWorld) []visit {
	return []visit{
		{"misp-import", func(b *tab) {
			b.open("/signin")
			if eval[int](b, `document.querySelectorAll(".signout-form button").length`) > 0 {
				b.submit(`.signout-form button`)
			}
			b.signIn(w.responder, w.password)
			b.open("/incidents")
			require.EqualValues(b.t, http.StatusOK, b.submit(`main a[href="/incidents/import"]`))
		}},
		{"misp-import-error", func(b *tab) {
			eval[chromedp.Void](b, `document.querySelector("#target-into").checked = true`)
			require.EqualValues(b.t, http.StatusUnprocessableEntity, b.submit("#misp-import-submit"))
			require.Equal(b.t, 2, eval[int](b, `document.querySelectorAll(".error-summary li").length`), "no reference, no file")
		}},
		{"misp-import-done", func(b *tab) {
			eval[chromedp.Void](b, `document.querySelector("#target-new").checked = true`)
			b.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{tempFile(b.t, "phishing-wave.json", []byte(mispEvent))}))
			require.EqualValues(b.t, http.StatusCreated, b.submit("#misp-import-submit"))
			require.Equal(b.t, "2", b.text("#misp-added"))
			require.Equal(b.t, 2, eval[int](b, `document.querySelectorAll(".misp-skipped tbody tr").length`), "the btc and the bad address")
		}},
	}
}
