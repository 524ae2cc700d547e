//! `haidang parse`: normalised events of a log file, as JSON lines (how an administrator checks a
//! new device's logs, and how our own checks look at the parsers).

use std::io::{BufRead, Write};

use haidang_event::Event;

use crate::Inventory;
use crate::input::event_to_json;
use crate::parse::{Format, Normalizer, ParseContext};

/// What a parse run saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParseSummary {
    /// Lines read.
    pub lines: u64,
    /// Events written.
    pub events: u64,
    /// Lines no parser understood (written as raw events with `event.parse_error`).
    pub unparsed: u64,
}

/// Parses every line of `input` (`-` for standard input) and writes one JSON line per event.
pub fn parse(
    input: &str,
    format: Format,
    context: ParseContext,
    inventory: Option<&Inventory>,
    out: &mut dyn Write,
) -> anyhow::Result<ParseSummary> {
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file =
            std::fs::File::open(input).map_err(|error| anyhow::anyhow!("{input}: cannot open: {error}"))?;
        Box::new(std::io::BufReader::with_capacity(1 << 20, file))
    };
    parse_reader(reader, format, context, inventory, out)
}

/// [`parse`] over any reader. Invalid UTF-8 is replaced, never fatal.
pub fn parse_reader(
    mut reader: impl BufRead,
    format: Format,
    context: ParseContext,
    inventory: Option<&Inventory>,
    out: &mut dyn Write,
) -> anyhow::Result<ParseSummary> {
    let mut normalizer = Normalizer::new(format, context);
    let mut summary = ParseSummary::default();
    let mut events: Vec<Event> = Vec::new();
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        if reader.read_until(b'\n', &mut bytes)? == 0 {
            break;
        }
        summary.lines += 1;
        let line = String::from_utf8_lossy(&bytes);
        normalizer.push(&line, &mut events);
        write_events(&mut events, inventory, out, &mut summary)?;
    }
    normalizer.finish(&mut events);
    write_events(&mut events, inventory, out, &mut summary)?;
    summary.unparsed = normalizer.unparsed;
    out.flush()?;
    Ok(summary)
}

fn write_events(
    events: &mut Vec<Event>,
    inventory: Option<&Inventory>,
    out: &mut dyn Write,
    summary: &mut ParseSummary,
) -> std::io::Result<()> {
    for mut event in events.drain(..) {
        if let Some(inventory) = inventory {
            inventory.enrich(&mut event);
        }
        serde_json::to_writer(&mut *out, &event_to_json(&event))?;
        out.write_all(b"\n")?;
        summary.events += 1;
    }
    Ok(())
}
