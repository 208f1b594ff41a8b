//! A test-only MaxMind DB writer: a small GeoIP file, written by hand in the binary format
//! (MaxMind DB File Format Specification 2.0), for the impossible-travel tests.
//!
//! Layout: an IPv4 search tree of 32-bit records (each node two records, big-endian; a
//! record below `node_count` names a node, equal to it means "no data", above it points
//! into the data section at `record - node_count - 16`), 16 zero bytes, the data section
//! (one City-style map per network: `country.iso_code`, `location.latitude|longitude`),
//! then `\xab\xcd\xefMaxMind.com` and the metadata map.

use std::net::Ipv4Addr;

/// One network of the file and where it is.
pub struct Place {
    pub network: Ipv4Addr,
    pub prefix: u8,
    pub country: &'static str,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// The file's bytes for `places` (networks must not nest).
pub fn write(places: &[Place]) -> Vec<u8> {
    // The search tree, a binary trie over the address bits.
    let mut nodes: Vec<[Record; 2]> = vec![[Record::Empty, Record::Empty]];
    for (index, place) in places.iter().enumerate() {
        assert!((1..=32).contains(&place.prefix));
        let bits = u32::from(place.network);
        let mut node = 0;
        for depth in 0..place.prefix {
            let bit = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == place.prefix {
                nodes[node][bit] = Record::Data(index);
            } else {
                node = match nodes[node][bit] {
                    Record::Node(next) => next,
                    _ => {
                        nodes.push([Record::Empty, Record::Empty]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Record::Node(next);
                        next
                    }
                };
            }
        }
    }
    // The data section: one map per place.
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for place in places {
        offsets.push(data.len());
        map_header(&mut data, 2);
        string(&mut data, "country");
        map_header(&mut data, 1);
        string(&mut data, "iso_code");
        string(&mut data, place.country);
        string(&mut data, "location");
        map_header(&mut data, 2);
        string(&mut data, "latitude");
        double(&mut data, place.latitude);
        string(&mut data, "longitude");
        double(&mut data, place.longitude);
    }
    let node_count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for record in node {
            let value = match *record {
                Record::Empty => node_count,
                Record::Node(n) => n,
                Record::Data(i) => node_count + 16 + offsets[i],
            };
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
    map_header(&mut out, 9);
    string(&mut out, "binary_format_major_version");
    uint16(&mut out, 2);
    string(&mut out, "binary_format_minor_version");
    uint16(&mut out, 0);
    string(&mut out, "build_epoch");
    uint64(&mut out, 1_700_000_000);
    string(&mut out, "database_type");
    string(&mut out, "Cognate-Test-City");
    string(&mut out, "description");
    map_header(&mut out, 1);
    string(&mut out, "en");
    string(&mut out, "Cognate's test GeoIP file");
    string(&mut out, "ip_version");
    uint16(&mut out, 4);
    string(&mut out, "languages");
    array_header(&mut out, 1);
    string(&mut out, "en");
    string(&mut out, "node_count");
    uint32(&mut out, node_count as u32);
    string(&mut out, "record_size");
    uint16(&mut out, 32);
    out
}

/// A control byte of `kind` (1 to 7; extended types 8 and up take a second byte) and
/// `size` (below 285 here).
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (first, extra) = if size < 29 {
        (size as u8, None)
    } else {
        assert!(size < 285, "test data too large");
        (29, Some((size - 29) as u8))
    };
    if kind <= 7 {
        out.push((kind << 5) | first);
    } else {
        out.push(first);
        out.push(kind - 7);
    }
    if let Some(extra) = extra {
        out.push(extra);
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    control(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn double(out: &mut Vec<u8>, v: f64) {
    control(out, 3, 8);
    out.extend_from_slice(&v.to_be_bytes());
}

fn map_header(out: &mut Vec<u8>, pairs: usize) {
    control(out, 7, pairs);
}

fn array_header(out: &mut Vec<u8>, items: usize) {
    control(out, 11, items);
}

fn unsigned(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn uint16(out: &mut Vec<u8>, v: u16) {
    unsigned(out, 5, u64::from(v));
}

fn uint32(out: &mut Vec<u8>, v: u32) {
    unsigned(out, 6, u64::from(v));
}

fn uint64(out: &mut Vec<u8>, v: u64) {
    unsigned(out, 9, v);
}
