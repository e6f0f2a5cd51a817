//! The trace's HTML page as a person sees it: headless Chromium (Debian's
//! `chromium` package) loads a generated page with no script error, the
//! page reports having drawn every slice of its data, and a screenshot
//! shows the timeline's coloured rows (the PNG is decoded here and its
//! pixels counted).
//!
//! `WEFT_KEEP_SCREENSHOT=1` keeps the page and the screenshot to look at.
//!
//! Skips, saying why, when Chromium is not installed, except under CI
//! (`CI` set), where `.ci/run` installs it and its absence fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs headless Chromium on `page` with `what` (`--dump-dom`, or
/// `--screenshot=FILE`), with a fresh profile; returns stdout.
fn browse(bin: &Path, dir: &Path, what: &str, page: &Path) -> String {
    let profile = dir.join(format!("profile-{}", what.len()));
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,720",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(what)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium {what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Between `start` and the next `end` in `s`.
fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(&s[from..from + len])
}

#[test]
fn chromium_draws_the_timeline() {
    let Some(bin) = chromium() else {
        // CI installs it (.ci/run): there a missing browser is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed (apt-get install -y chromium)"
        );
        eprintln!("skipped: chromium is not installed (apt-get install -y chromium)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("weft-trace-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("trace.html");
    weft::trace::start(&page).unwrap();
    weft::run(|| {
        let (tx, rx) = weft::chan::<u32>(0);
        let h = weft::go!(move || rx.iter().sum::<u32>());
        for i in 0..100 {
            tx.send(i).unwrap();
        }
        drop(tx);
        assert_eq!(h.join().unwrap(), 4950);
        let hs: Vec<_> = (0..100u64).map(|i| weft::go!(move || i)).collect();
        hs.into_iter().for_each(|h| drop(h.join()));
        weft::time::sleep(Duration::from_millis(1));
    });
    weft::trace::stop().unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    let data = between(
        &html,
        "<script type=\"application/json\" id=\"trace-data\">",
        "</script>",
    )
    .unwrap();
    let data: serde_json::Value = serde_json::from_str(data).unwrap();
    let slices = data["slices"].as_array().unwrap().len();
    assert!(slices > 200, "{slices} slices in the data");

    // The DOM after the scripts ran: no error, every slice drawn.
    let dom = browse(&bin, &dir, "--dump-dom", &page);
    let errors = between(&dom, "<div id=\"errors\">", "</div>").unwrap_or("?");
    assert_eq!(errors.trim(), "", "the page reported script errors");
    let drawn: usize = between(&dom, "data-rendered=\"", "\"")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the page did not render: {}", &dom[..dom.len().min(600)]));
    assert_eq!(drawn, slices, "slices drawn vs slices in the data");
    assert!(dom.contains(&format!("<title>weft trace: {slices} slices</title>")));

    // The screenshot: the timeline's coloured slices are there.
    let png = dir.join("shot.png");
    browse(
        &bin,
        &dir,
        &format!("--screenshot={}", png.display()),
        &page,
    );
    let img = png::decode(&std::fs::read(&png).unwrap()).expect("a PNG");
    assert_eq!((img.width, img.height), (1280, 720));
    let colored = img
        .pixels()
        .filter(|&(r, g, b)| r.max(g).max(b) - r.min(g).min(b) > 60)
        .count();
    let not_white = img
        .pixels()
        .filter(|&(r, g, b)| (r as u32 + g as u32 + b as u32) < 600)
        .count();
    eprintln!(
        "screenshot: {colored} coloured and {not_white} non-white pixels of {}",
        img.width * img.height
    );
    assert!(colored > 2_000, "the screenshot shows no coloured slices");
    assert!(not_white > 5_000, "the screenshot is blank");
    if std::env::var_os("WEFT_KEEP_SCREENSHOT").is_some() {
        eprintln!("kept: {} and {}", page.display(), png.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Just enough PNG to read a screenshot: 8-bit RGB or RGBA, not
/// interlaced; zlib's inflate (stored, fixed and dynamic Huffman blocks).
mod png {
    pub struct Image {
        pub width: usize,
        pub height: usize,
        channels: usize,
        data: Vec<u8>,
    }

    impl Image {
        pub fn pixels(&self) -> impl Iterator<Item = (u8, u8, u8)> + '_ {
            self.data
                .chunks_exact(self.channels)
                .map(|p| (p[0], p[1], p[2]))
        }
    }

    pub fn decode(file: &[u8]) -> Result<Image, String> {
        if file.get(..8) != Some(b"\x89PNG\r\n\x1a\n") {
            return Err("not a PNG".into());
        }
        let (mut pos, mut idat) = (8, Vec::new());
        let (mut width, mut height, mut channels) = (0, 0, 0);
        while pos + 8 <= file.len() {
            let len = u32::from_be_bytes(file[pos..pos + 4].try_into().unwrap()) as usize;
            let kind = &file[pos + 4..pos + 8];
            let body = file.get(pos + 8..pos + 8 + len).ok_or("truncated chunk")?;
            match kind {
                b"IHDR" => {
                    width = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                    height = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                    channels = match (body[8], body[9], body[12]) {
                        (8, 2, 0) => 3,
                        (8, 6, 0) => 4,
                        other => return Err(format!("unsupported PNG {other:?}")),
                    };
                }
                b"IDAT" => idat.extend_from_slice(body),
                b"IEND" => break,
                _ => {}
            }
            pos += 12 + len;
        }
        let raw = inflate(idat.get(2..).ok_or("no image data")?)?;
        let stride = width * channels;
        if raw.len() < height * (stride + 1) {
            return Err("short image data".into());
        }
        let mut data = vec![0u8; height * stride];
        for y in 0..height {
            let filter = raw[y * (stride + 1)];
            let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
            for x in 0..stride {
                let a = if x >= channels {
                    data[y * stride + x - channels]
                } else {
                    0
                } as i32;
                let b = if y > 0 { data[(y - 1) * stride + x] } else { 0 } as i32;
                let c = if x >= channels && y > 0 {
                    data[(y - 1) * stride + x - channels]
                } else {
                    0
                } as i32;
                let pred = match filter {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => {
                        let p = a + b - c;
                        let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                        if pa <= pb && pa <= pc {
                            a
                        } else if pb <= pc {
                            b
                        } else {
                            c
                        }
                    }
                    f => return Err(format!("bad filter {f}")),
                };
                data[y * stride + x] = (line[x] as i32 + pred) as u8;
            }
        }
        Ok(Image {
            width,
            height,
            channels,
            data,
        })
    }

    struct Bits<'a> {
        data: &'a [u8],
        pos: usize,
        bit: u32,
    }

    impl Bits<'_> {
        fn get(&mut self, n: u32) -> Result<u32, String> {
            let mut v = 0;
            for i in 0..n {
                let byte = *self.data.get(self.pos).ok_or("inflate: out of data")?;
                v |= (((byte >> self.bit) & 1) as u32) << i;
                self.bit += 1;
                if self.bit == 8 {
                    self.bit = 0;
                    self.pos += 1;
                }
            }
            Ok(v)
        }
    }

    /// A canonical Huffman code: symbol counts per length, symbols by code.
    struct Huffman {
        counts: [u16; 16],
        symbols: Vec<u16>,
    }

    impl Huffman {
        fn new(lengths: &[u8]) -> Huffman {
            let mut counts = [0u16; 16];
            for &l in lengths {
                counts[l as usize] += 1;
            }
            counts[0] = 0;
            let mut offs = [0u16; 16];
            for i in 1..16 {
                offs[i] = offs[i - 1] + counts[i - 1];
            }
            let mut symbols = vec![0; lengths.len()];
            for (s, &l) in lengths.iter().enumerate() {
                if l != 0 {
                    symbols[offs[l as usize] as usize] = s as u16;
                    offs[l as usize] += 1;
                }
            }
            Huffman { counts, symbols }
        }

        fn decode(&self, bits: &mut Bits) -> Result<u16, String> {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for len in 1..16 {
                code |= bits.get(1)? as i32;
                let count = self.counts[len] as i32;
                if code - count < first {
                    return Ok(self.symbols[(index + code - first) as usize]);
                }
                index += count;
                first = (first + count) << 1;
                code <<= 1;
            }
            Err("inflate: bad code".into())
        }
    }

    const LEN_BASE: [u16; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const LEN_EXTRA: [u8; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DIST_BASE: [u16; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DIST_EXTRA: [u8; 30] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13,
    ];

    fn inflate(data: &[u8]) -> Result<Vec<u8>, String> {
        let mut bits = Bits {
            data,
            pos: 0,
            bit: 0,
        };
        let mut out = Vec::new();
        loop {
            let last = bits.get(1)?;
            match bits.get(2)? {
                0 => {
                    if bits.bit != 0 {
                        bits.bit = 0;
                        bits.pos += 1;
                    }
                    let p = bits.pos;
                    let len = u16::from_le_bytes([data[p], data[p + 1]]) as usize;
                    out.extend_from_slice(data.get(p + 4..p + 4 + len).ok_or("stored block")?);
                    bits.pos = p + 4 + len;
                }
                1 => {
                    let mut l = [8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    block(
                        &mut bits,
                        &mut out,
                        &Huffman::new(&l),
                        &Huffman::new(&[5; 30]),
                    )?;
                }
                2 => {
                    let nlen = bits.get(5)? as usize + 257;
                    let ndist = bits.get(5)? as usize + 1;
                    let ncode = bits.get(4)? as usize + 4;
                    const ORDER: [usize; 19] = [
                        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                    ];
                    let mut cl = [0u8; 19];
                    for &i in &ORDER[..ncode] {
                        cl[i] = bits.get(3)? as u8;
                    }
                    let ch = Huffman::new(&cl);
                    let mut lens = Vec::with_capacity(nlen + ndist);
                    while lens.len() < nlen + ndist {
                        let sym = ch.decode(&mut bits)?;
                        let (v, n) = match sym {
                            0..=15 => (sym as u8, 1),
                            16 => (*lens.last().ok_or("repeat of nothing")?, 3 + bits.get(2)?),
                            17 => (0, 3 + bits.get(3)?),
                            _ => (0, 11 + bits.get(7)?),
                        };
                        lens.extend(std::iter::repeat_n(v, n as usize));
                    }
                    let lit = Huffman::new(&lens[..nlen]);
                    let dist = Huffman::new(&lens[nlen..nlen + ndist]);
                    block(&mut bits, &mut out, &lit, &dist)?;
                }
                _ => return Err("inflate: bad block type".into()),
            }
            if last == 1 {
                return Ok(out);
            }
        }
    }

    fn block(
        bits: &mut Bits,
        out: &mut Vec<u8>,
        lit: &Huffman,
        dist: &Huffman,
    ) -> Result<(), String> {
        loop {
            let sym = lit.decode(bits)? as usize;
            if sym < 256 {
                out.push(sym as u8);
            } else if sym == 256 {
                return Ok(());
            } else {
                let i = sym - 257;
                let len = *LEN_BASE.get(i).ok_or("bad length")? as usize
                    + bits.get(LEN_EXTRA[i] as u32)? as usize;
                let d = dist.decode(bits)? as usize;
                let back = *DIST_BASE.get(d).ok_or("bad distance")? as usize
                    + bits.get(DIST_EXTRA[d] as u32)? as usize;
                if back > out.len() {
                    return Err("inflate: distance too far".into());
                }
                let start = out.len() - back;
                for k in 0..len {
                    out.push(out[start + k]);
                }
            }
        }
    }
}
