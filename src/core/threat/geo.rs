//! The operator's GeoIP file (`[server] geoip_database`), for the impossible-travel
//! signal: a MaxMind DB file (GeoLite2-City, GeoIP2-City, DB-IP's City Lite...) read whole
//! into memory at start with the `maxminddb` crate; lookups never leave the machine.
//!
//! Only City-style records are read: `location.latitude`, `location.longitude` and
//! `country.iso_code` (MaxMind's GeoIP2 City schema). An address the file does not know,
//! or a record without coordinates, has no location (the signal then stays silent).

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::core::model::GeoPoint;

/// An opened GeoIP file.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("database_type", &self.reader.metadata().database_type)
            .finish()
    }
}

#[derive(Deserialize)]
struct CityRecord {
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    country: Option<Country>,
}

#[derive(Deserialize)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize)]
struct Country {
    iso_code: Option<String>,
}

impl GeoIp {
    /// Reads and checks the file (its metadata and search tree).
    pub fn open(path: &Path) -> Result<GeoIp, String> {
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| format!("cannot read the GeoIP database {}: {e}", path.display()))?;
        Ok(GeoIp { reader })
    }

    /// Reads a file already in memory (tests).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<GeoIp, String> {
        let reader = maxminddb::Reader::from_source(bytes).map_err(|e| e.to_string())?;
        Ok(GeoIp { reader })
    }

    /// Where `address` is, if the file knows (a lookup error is no location).
    pub fn locate(&self, address: IpAddr) -> Option<GeoPoint> {
        let found = self.reader.lookup(address).ok()?;
        let record: CityRecord = found.decode().ok()??;
        let location = record.location?;
        let (latitude, longitude) = (location.latitude?, location.longitude?);
        if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
            return None;
        }
        Some(GeoPoint {
            country: record.country.and_then(|c| c.iso_code),
            latitude,
            longitude,
        })
    }
}

/// The great-circle distance between two points, in km (haversine, mean Earth radius).
pub fn distance_km(a: &GeoPoint, b: &GeoPoint) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_to_new_york_is_about_5840_km() {
        let paris = GeoPoint {
            country: None,
            latitude: 48.8566,
            longitude: 2.3522,
        };
        let new_york = GeoPoint {
            country: None,
            latitude: 40.7128,
            longitude: -74.0060,
        };
        let d = distance_km(&paris, &new_york);
        assert!((5800.0..5900.0).contains(&d), "{d}");
        assert!(distance_km(&paris, &paris) < 0.001);
    }
}
