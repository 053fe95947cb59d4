//! Charts drawn on the server as inline SVG: no script and no request, so the pages'
//! `default-src 'none'` policy holds. Colours come from the page's CSS variables, so dark mode
//! recolours them; every chart is an `img` with a title and a description saying its numbers,
//! and its numbers are also a table beside it (screen readers, and anyone who wants them).

use crate::base::html;
use crate::base::html::Html;
use crate::transitions::usage::Outcomes;

/// The outcomes a chart stacks, bottom up: CSS class and what the legend calls it.
pub const OUTCOMES: [(&str, &str); 5] = [
    ("ok", "ok"),
    ("error", "Attio error"),
    ("refused", "refused"),
    ("limited", "rate-limited"),
    ("unknown", "no outcome"),
];

fn counts(o: &Outcomes) -> [u64; 5] {
    [o.ok, o.error, o.refused, o.limited, o.unknown]
}

/// "1,234".
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What `o` adds up to in words: "120 calls: 100 ok, 20 Attio error".
pub fn summary(o: &Outcomes) -> String {
    let parts: Vec<String> = OUTCOMES
        .iter()
        .zip(counts(o))
        .filter(|(_, n)| *n > 0)
        .map(|((_, name), n)| format!("{} {name}", number(n)))
        .collect();
    let calls = if o.total() == 1 { "call" } else { "calls" };
    if parts.is_empty() {
        format!("no {calls}")
    } else {
        format!("{} {calls}: {}", number(o.total()), parts.join(", "))
    }
}

const WIDTH: u64 = 720;
const LEFT: u64 = 44;
const BOTTOM: u64 = 22;
const TOP: u64 = 8;

/// Calls per bar (a day, an hour) stacked by outcome, `id` naming its title and description.
/// Each bar is `(short label, long label, outcomes)`; a bar's segments say their numbers when
/// pointed at, and the table below says them all.
pub fn stacked_bars(id: &str, caption: &str, bars: &[(String, String, Outcomes)], height: u64) -> Html {
    let max = bars.iter().map(|(_, _, o)| o.total()).max().unwrap_or(0);
    let scale_top = nice_ceiling(max);
    let plot = height - BOTTOM - TOP;
    // Coordinates in tenths, printed with one decimal: integer arithmetic keeps float
    // formatting (tens of kilobytes of wasm) out of the bundle.
    let slot = (WIDTH - LEFT) * 10 / bars.len().max(1) as u64;
    let bar_width = tenths((slot * 72 / 100).max(10));
    let mut shapes = String::new();
    for (i, (short, long, o)) in bars.iter().enumerate() {
        let x = tenths(LEFT * 10 + slot * i as u64 + slot * 14 / 100);
        let mut y = (height - BOTTOM) * 10;
        for ((class, name), n) in OUTCOMES.iter().zip(counts(o)).filter(|(_, n)| *n > 0) {
            let h = n * plot * 10 / scale_top;
            y = y.saturating_sub(h);
            shapes.push_str(
                html!(
                    "<rect class=\"s-{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}: {} {}</title></rect>",
                    class,
                    x,
                    tenths(y),
                    bar_width,
                    tenths(h),
                    long,
                    number(n),
                    name
                )
                .as_str(),
            );
        }
        // At most about eight labels under the bars, the last bar always labelled.
        let every = bars.len().div_ceil(8).max(1);
        if (bars.len() - 1 - i).is_multiple_of(every) {
            let cx = tenths(LEFT * 10 + slot * i as u64 + slot / 2);
            shapes.push_str(
                html!("<text class=axis x=\"{}\" y=\"{}\" text-anchor=middle>{}</text>", cx, height - 6, short)
                    .as_str(),
            );
        }
    }
    let total = bars.iter().fold(Outcomes::default(), |mut t, (_, _, o)| {
        t.add(o);
        t
    });
    let busiest = bars.iter().max_by_key(|(_, _, o)| o.total()).filter(|(_, _, o)| o.total() > 0);
    let description = match busiest {
        Some((_, long, o)) => format!("{}. Busiest: {long}, {}.", summary(&total), number(o.total())),
        None => "No calls in this range.".to_string(),
    };
    let rows: Html = bars
        .iter()
        .filter(|(_, _, o)| o.total() > 0)
        .map(|(_, long, o)| {
            let c = counts(o);
            html!(
                "<tr><th scope=row>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                long,
                number(c[0]),
                number(c[1]),
                number(c[2]),
                number(c[3]),
                number(c[4]),
                number(o.total())
            )
        })
        .collect();
    let legend: Html = OUTCOMES
        .iter()
        .map(|(class, name)| html!("<li><span class=\"swatch s-{}\" aria-hidden=true></span>{}</li>", class, name))
        .collect();
    let empty = if max == 0 { html!("<p class=muted>No calls in this range.</p>") } else { super::NOTHING };
    html!(
        "<figure class=chart><svg viewBox=\"0 0 {} {}\" role=img aria-labelledby=\"{}-t {}-d\">\
         <title id=\"{}-t\">{}</title><desc id=\"{}-d\">{}</desc>\
         <line class=grid x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"></line>\
         <line class=grid x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"></line>\
         <text class=axis x=\"{}\" y=\"{}\" text-anchor=end>{}</text>\
         <text class=axis x=\"{}\" y=\"{}\" text-anchor=end>0</text>{}</svg>\
         <figcaption><ul class=legend>{}</ul>{}</figcaption>\
         <details><summary>{} as a table</summary><div class=table><table><thead><tr><th scope=col>When</th>\
         <th scope=col>ok</th><th scope=col>Attio error</th><th scope=col>refused</th><th scope=col>rate-limited</th>\
         <th scope=col>no outcome</th><th scope=col>total</th></tr></thead><tbody>{}</tbody></table></div></details>\
         </figure>",
        WIDTH,
        height,
        id,
        id,
        id,
        caption,
        id,
        description,
        LEFT,
        WIDTH,
        TOP,
        TOP,
        LEFT,
        WIDTH,
        height - BOTTOM,
        height - BOTTOM,
        LEFT - 6,
        TOP + 10,
        number(scale_top),
        LEFT - 6,
        height - BOTTOM,
        Html::from_template(shapes),
        legend,
        empty,
        caption,
        rows,
    )
}

/// `t` tenths as a decimal: `125` is "12.5".
fn tenths(t: u64) -> String {
    format!("{}.{}", t / 10, t % 10)
}

/// The top of a chart's scale: `max` rounded up to 1, 2 or 5 times a power of ten.
fn nice_ceiling(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if max <= step * m {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// The busiest of something, as a list with a bar each: `(name, what the name links to, count)`,
/// the link optional. Names and counts are text, so the list reads the same without the bars.
pub fn ranking(caption: &str, items: &[(Html, u64)]) -> Html {
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let rows: Html = items
        .iter()
        .map(|(name, n)| {
            let width = format!("width:{}%", (n * 100 / max).max(1));
            html!(
                "<tr><td>{}</td><td class=num>{}</td><td class=meter><span class=bar style=\"{}\"></span></td></tr>",
                name.clone(),
                number(*n),
                width
            )
        })
        .collect();
    if items.is_empty() {
        return html!("<div class=rank><h3>{}</h3><p class=muted>None in this range.</p></div>", caption);
    }
    html!("<div class=rank><h3>{}</h3><table><tbody>{}</tbody></table></div>", caption, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, ok: u64, error: u64) -> (String, String, Outcomes) {
        (label.into(), format!("day {label}"), Outcomes { ok, error, ..Default::default() })
    }

    #[test]
    fn a_chart_says_its_numbers_in_words_and_in_a_table() {
        let chart = stacked_bars("c", "Calls per day", &[bar("1", 3, 1), bar("2", 0, 0), bar("3", 1200, 0)], 160);
        let text = chart.as_str();
        assert!(text.contains("role=img aria-labelledby=\"c-t c-d\""), "{text}");
        assert!(text.contains("<title id=\"c-t\">Calls per day</title>"));
        assert!(text.contains("<desc id=\"c-d\">1,204 calls: 1,203 ok, 1 Attio error. Busiest: day 3, 1,200.</desc>"));
        assert!(text.contains("<th scope=row>day 1</th><td>3</td><td>1</td>"), "{text}");
        assert!(!text.contains("day 2</th>"), "an empty bar is no row");
        assert!(text.contains(">2,000</text>"), "the scale's top");
    }

    #[test]
    fn an_empty_range_is_a_chart_that_says_so() {
        let chart = stacked_bars("e", "Calls", &[bar("1", 0, 0)], 160);
        assert!(chart.as_str().contains("<desc id=\"e-d\">No calls in this range.</desc>"));
        assert!(chart.as_str().contains("<p class=muted>No calls in this range.</p>"));
        assert!(!chart.as_str().contains("<rect"));
        assert!(ranking("Apps", &[]).as_str().contains("None in this range."));
    }

    #[test]
    fn names_in_a_chart_are_escaped() {
        let chart = stacked_bars(
            "x",
            "<b>",
            &[("<i>".into(), "<script>".into(), Outcomes { ok: 1, ..Default::default() })],
            100,
        );
        assert!(
            !chart.as_str().contains("<script>") && !chart.as_str().contains("<b>") && !chart.as_str().contains("<i>")
        );
        assert_eq!(
            (number(0), number(999), number(1000), number(1234567)),
            ("0".into(), "999".into(), "1,000".into(), "1,234,567".into())
        );
        assert_eq!((nice_ceiling(0), nice_ceiling(3), nice_ceiling(11), nice_ceiling(4000)), (1, 5, 20, 5000));
    }
}
