package web

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/engine"
)

// billView is the bill page's data: the API's bill record, the chart of
// its days and the day rows the chart draws.
type billView struct {
	Bill  api.Bill
	Chart template.HTML
	Days  []dayCost
	// Prev and Next are the neighbouring months, for the page's links.
	Prev, Next string
}

type dayCost struct {
	Day  string
	Pico int64
}

func (d *Dashboard) billPage(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	b, err := eng.Bill(r.Context(), engine.BillRequest{Month: r.URL.Query().Get("month")})
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	bv := billView{Bill: api.NewBill(b), Prev: b.From.AddDate(0, -1, 0).Format("2006-01"), Next: b.From.AddDate(0, 1, 0).Format("2006-01")}
	var bars []bar
	for day := b.From; day.Before(b.To); day = day.AddDate(0, 0, 1) {
		key := day.Format("2006-01-02")
		pico := b.Daily[key]
		bv.Days = append(bv.Days, dayCost{Day: key, Pico: pico})
		label := ""
		if n := day.Day(); n == 1 || n%5 == 0 {
			label = strconv.Itoa(n)
		}
		bars = append(bars, bar{Label: label, Title: key + ": " + billing.Pico(pico).String(), Value: float64(pico)})
	}
	bv.Chart = barChart("bill-chart", "Cost per day in "+b.Month, bars, func(v float64) string { return "$" + billing.Pico(int64(v)).String() })
	d.render(w, http.StatusOK, "bill.html", d.view(s, "Bill "+b.Month, "bill", "", bv))
}
