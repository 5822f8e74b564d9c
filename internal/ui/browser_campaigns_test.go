package ui_test

func init() {
	walks["campaigns"] = func(w *demoWorld) []visit {
		return []visit{
			{"campaigns", func(b *tab) {
				b.open("/signin")
				if eval[int](b, `document.querySelectorAll(".signout-form button").length`) > 0 {
					b.submit(`.signout-form button`)
				}
				b.signIn(w.responder, w.password)
				b.open("/incidents")
				b.submit(`main a[href="/campaigns"]`)
			}},
		}
	}
}
