//! SVG plots (plotters' SVG backend; text is left to the SVG viewer's fonts,
//! so no font library is needed to draw them): goodput and congestion window
//! over time per flow (per subflow for MPTCP), the data each MPTCP subflow
//! carried over time, utilisation over time per link, and for many flows the
//! per-flow goodput ranked.

use crate::results::Results;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

type Line = (String, Vec<(f64, f64)>);

/// More lines than this make a chart unreadable: the flows' goodput is then
/// drawn ranked instead.
const MAX_LINES: usize = 10;

fn line_chart(path: &Path, title: &str, x_desc: &str, y_desc: &str, lines: &[Line]) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let x_max = lines.iter().flat_map(|l| l.1.iter().map(|p| p.0)).fold(0.0f64, f64::max).max(1e-9);
    let y_max = lines.iter().flat_map(|l| l.1.iter().map(|p| p.1)).fold(0.0f64, f64::max).max(1e-9) * 1.08;
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(|x| e(&x))?;
    chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).draw().map_err(|x| e(&x))?;
    for (i, (name, pts)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    if lines.len() > 1 || lines.first().is_some_and(|l| !l.0.is_empty()) {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|x| e(&x))?;
    }
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

/// Draws the plots of `r` into `dir`; returns the files written.
pub fn write_plots(r: &Results, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    let t = &r.series.t_s;
    if r.series.flows.len() <= MAX_LINES {
        let goodput: Vec<Line> = r
            .series
            .flows
            .iter()
            .map(|f| (f.name.clone(), t.iter().zip(&f.goodput_bps).skip(1).map(|(&x, &y)| (x, y / 1e6)).collect()))
            .collect();
        let p = dir.join("goodput.svg");
        line_chart(&p, &format!("{}: goodput per flow", r.scenario), "time (s)", "goodput (Mbit/s)", &goodput)?;
        written.push(p);
        // MPTCP flows show a window per subflow (when they fit), TCP flows theirs.
        let kb = |v: &[u64]| t.iter().zip(v).map(|(&x, &y)| (x, y as f64 / 1000.0)).collect::<Vec<_>>();
        let per_subflow: usize = r.series.flows.iter().map(|f| f.subflows.len().max(1)).sum();
        let cwnd: Vec<Line> = r
            .series
            .flows
            .iter()
            .flat_map(|f| {
                if f.subflows.is_empty() || per_subflow > MAX_LINES {
                    vec![(f.name.clone(), kb(&f.cwnd_bytes))]
                } else {
                    f.subflows.iter().map(|s| (format!("{} {}", f.name, s.name), kb(&s.cwnd_bytes))).collect()
                }
            })
            .collect();
        let p = dir.join("cwnd.svg");
        let title = if per_subflow > r.series.flows.len() && per_subflow <= MAX_LINES {
            format!("{}: congestion window per flow (per subflow for MPTCP)", r.scenario)
        } else {
            format!("{}: congestion window per flow", r.scenario)
        };
        line_chart(&p, &title, "time (s)", "cwnd (kB)", &cwnd)?;
        written.push(p);
        let subflows: Vec<Line> = r
            .series
            .flows
            .iter()
            .flat_map(|f| {
                f.subflows.iter().map(|s| {
                    let pts = t.iter().zip(&s.throughput_bps).skip(1).map(|(&x, &y)| (x, y / 1e6)).collect();
                    (format!("{} {}", f.name, s.name), pts)
                })
            })
            .collect();
        if !subflows.is_empty() && subflows.len() <= MAX_LINES {
            let p = dir.join("subflows.svg");
            let title = format!("{}: data sent per MPTCP subflow", r.scenario);
            line_chart(&p, &title, "time (s)", "throughput (Mbit/s)", &subflows)?;
            written.push(p);
        }
    } else {
        let mut g: Vec<f64> = r.flows.iter().map(|f| f.goodput_bps / 1e6).collect();
        g.sort_by(f64::total_cmp);
        let ranked = vec![(String::new(), g.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect())];
        let p = dir.join("goodput-ranked.svg");
        line_chart(&p, &format!("{}: goodput per flow, ranked", r.scenario), "flow rank", "goodput (Mbit/s)", &ranked)?;
        written.push(p);
    }
    if !r.series.links.is_empty() {
        let links: Vec<Line> = r
            .series
            .links
            .iter()
            .map(|l| (l.name.clone(), t.iter().zip(&l.utilisation).skip(1).map(|(&x, &y)| (x, y * 100.0)).collect()))
            .collect();
        let p = dir.join("links.svg");
        line_chart(&p, &format!("{}: link utilisation", r.scenario), "time (s)", "utilisation (%)", &links)?;
        written.push(p);
    }
    Ok(written)
}
