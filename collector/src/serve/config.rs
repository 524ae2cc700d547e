//! The collector's configuration: a TOML file whose every key is optional (embedded defaults
//! otherwise). Two layers: [`ServeConfigFile`] is the file as written (unknown keys rejected),
//! [`ServeConfig`] is checked and typed.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::UtcOffset;

/// The configuration file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfigFile {
    /// Format version; 1.
    #[serde(default)]
    pub version: Option<u32>,
    /// Where the collector keeps its data (alerts log, compile cache). Default `haidang-data`.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Rule files or directories. Default `rules/haidang`.
    #[serde(default)]
    pub rules: Option<Vec<PathBuf>>,
    /// Mapping directory. Default: the mappings built into the binary.
    #[serde(default)]
    pub mappings: Option<PathBuf>,
    /// Inventory file (hosts to systems, agencies, grades). Default: none.
    #[serde(default)]
    pub inventory: Option<PathBuf>,
    /// Offset for timestamps written without one. Default `+07:00` (Asia/Ho_Chi_Minh).
    #[serde(default)]
    pub default_offset: Option<String>,
    /// Parsing and matching threads. Default: one per core.
    #[serde(default)]
    pub threads: Option<usize>,
    /// Records held between ingest and matching; past this, TCP and HTTP senders wait and UDP
    /// datagrams are dropped (and counted). Default 8192.
    #[serde(default)]
    pub queue_capacity: Option<usize>,
    /// Longest accepted line in bytes; longer ones are cut there (and counted). Default 65536.
    #[serde(default)]
    pub max_line_bytes: Option<usize>,
    /// Reload rules when their files change (and on SIGHUP). Default true.
    #[serde(default)]
    pub watch_rules: Option<bool>,
    /// The inputs.
    #[serde(default)]
    pub inputs: InputsFile,
    /// `[ui]`: the analysts' web UI and API.
    #[serde(default)]
    pub ui: UiFile,
    /// `[index]`: the event index.
    #[serde(default)]
    pub index: IndexFile,
}

/// `[ui]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiFile {
    /// Set false to turn the UI and API off.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Address and port. Default 127.0.0.1:8443.
    #[serde(default)]
    pub listen: Option<String>,
    /// TLS (default true). Without `certificate` and `key`, the certificate comes from the
    /// collector's own CA (`data_dir/pki`); browsers will ask to trust it.
    #[serde(default)]
    pub tls: Option<bool>,
    /// PEM certificate chain.
    #[serde(default)]
    pub certificate: Option<PathBuf>,
    /// PEM private key.
    #[serde(default)]
    pub key: Option<PathBuf>,
}

/// `[index]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexFile {
    /// Memory for the index writers, in MiB. Default 128.
    #[serde(default)]
    pub writer_memory_mb: Option<usize>,
    /// Retention catalogue (days per security grade). Default: the one built in, from
    /// `rules/compliance/retention.yml`.
    #[serde(default)]
    pub retention: Option<PathBuf>,
}

/// `[inputs]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputsFile {
    /// `[inputs.syslog_udp]`: default 127.0.0.1:5514.
    #[serde(default)]
    pub syslog_udp: Option<ListenerFile>,
    /// `[inputs.syslog_tcp]`: newline or octet-counting framing; default 127.0.0.1:5514.
    #[serde(default)]
    pub syslog_tcp: Option<ListenerFile>,
    /// `[inputs.syslog_tls]`: RFC 5425; off unless configured with a certificate and key.
    #[serde(default)]
    pub syslog_tls: Option<ListenerFile>,
    /// `[inputs.http]`: JSON lines and Elasticsearch `_bulk` ingest, and `/health`; default
    /// 127.0.0.1:8514.
    #[serde(default)]
    pub http: Option<ListenerFile>,
    /// `[inputs.agents]`: the agent protocol (mutual TLS, acknowledged batches, `docs/protocol.md`);
    /// default 127.0.0.1:5044. Its CA and certificate are created under `data_dir/pki`.
    #[serde(default)]
    pub agents: Option<ListenerFile>,
}

/// One listener.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerFile {
    /// Set false to turn the input off.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Address and port to listen on (port 0: any free port).
    #[serde(default)]
    pub listen: Option<String>,
    /// PEM certificate chain (TLS).
    #[serde(default)]
    pub certificate: Option<PathBuf>,
    /// PEM private key (TLS).
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// Force a parse format for this input (see `haidang parse --format`); default auto.
    #[serde(default)]
    pub format: Option<String>,
    /// Agents input only: the names and addresses agents reach the collector by, written into the
    /// server certificate when it is first created. Default `localhost`, `127.0.0.1` and the host
    /// name.
    #[serde(default)]
    pub server_names: Option<Vec<String>>,
}

/// A TLS listener's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain.
    pub certificate: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// A checked listener.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    /// Where it listens.
    pub address: SocketAddr,
    /// TLS, when the input uses it.
    pub tls: Option<TlsFiles>,
    /// Parse format.
    pub format: crate::parse::Format,
    /// Names for the server certificate (agents input).
    pub server_names: Vec<String>,
}

/// The checked configuration, valid by construction.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Rule paths.
    pub rules: Vec<PathBuf>,
    /// Mapping directory (built-in when `None`).
    pub mappings: Option<PathBuf>,
    /// Inventory file.
    pub inventory: Option<PathBuf>,
    /// Offset for zone-less timestamps.
    pub default_offset: UtcOffset,
    /// Matching threads.
    pub threads: NonZeroUsize,
    /// Queue capacity.
    pub queue_capacity: NonZeroUsize,
    /// Longest line.
    pub max_line_bytes: NonZeroUsize,
    /// Reload rules on change.
    pub watch_rules: bool,
    /// Syslog over UDP.
    pub syslog_udp: Option<Listener>,
    /// Syslog over TCP.
    pub syslog_tcp: Option<Listener>,
    /// Syslog over TLS.
    pub syslog_tls: Option<Listener>,
    /// HTTP ingest.
    pub http: Option<Listener>,
    /// The agent protocol.
    pub agents: Option<Listener>,
    /// The UI and API.
    pub ui: Option<super::ui::UiListener>,
    /// Index writer memory, bytes.
    pub index_memory_bytes: usize,
    /// Retention catalogue file (built-in when `None`).
    pub retention: Option<PathBuf>,
}

/// A configuration problem, naming the file and the key.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct ConfigError {
    /// The file (or `(defaults)`).
    pub file: String,
    /// What is wrong, with the line and key when known.
    pub problem: String,
}

impl ServeConfig {
    /// The embedded defaults (no file).
    pub fn defaults() -> ServeConfig {
        ServeConfig::check("(defaults)", ServeConfigFile::default())
            .unwrap_or_else(|error| unreachable!("the embedded defaults are valid: {error}"))
    }

    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<ServeConfig, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
            file: name.clone(),
            problem: format!("cannot read: {error}"),
        })?;
        ServeConfig::parse(&name, &text)
    }

    /// Parses and checks configuration text.
    pub fn parse(name: &str, text: &str) -> Result<ServeConfig, ConfigError> {
        let file: ServeConfigFile = toml::from_str(text).map_err(|error| ConfigError {
            file: name.to_owned(),
            problem: error.to_string().trim().replace('\n', " | "),
        })?;
        ServeConfig::check(name, file)
    }

    fn check(name: &str, file: ServeConfigFile) -> Result<ServeConfig, ConfigError> {
        let error = |problem: String| ConfigError {
            file: name.to_owned(),
            problem,
        };
        if let Some(version) = file.version
            && version != 1
        {
            return Err(error(format!("key `version`: {version} is not supported (1 is)")));
        }
        let default_offset = match file.default_offset.as_deref() {
            None => UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC),
            Some(text) => {
                let format =
                    time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
                UtcOffset::parse(text, &format).map_err(|_| {
                    error(format!(
                        "key `default_offset`: `{text}` is not an offset like +07:00"
                    ))
                })?
            }
        };
        let positive = |key: &str, value: Option<usize>, default: usize| {
            NonZeroUsize::new(value.unwrap_or(default))
                .ok_or_else(|| error(format!("key `{key}`: must be at least 1")))
        };
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let listener = |key: &str, section: Option<ListenerFile>, default: Option<&str>, tls: bool| {
            let section = section.unwrap_or_default();
            if section.enabled == Some(false) {
                return Ok(None);
            }
            let Some(listen) = section
                .listen
                .as_deref()
                .or(if tls && section.certificate.is_none() {
                    None
                } else {
                    default
                })
            else {
                return Ok(None);
            };
            let address: SocketAddr = listen.parse().map_err(|_| {
                error(format!(
                    "key `inputs.{key}.listen`: `{listen}` is not an address:port"
                ))
            })?;
            let tls = if tls {
                match (section.certificate, section.key) {
                    (Some(certificate), Some(key)) => Some(TlsFiles { certificate, key }),
                    _ => {
                        return Err(error(format!(
                            "keys `inputs.{key}.certificate` and `inputs.{key}.key`: both are required for TLS"
                        )));
                    }
                }
            } else {
                None
            };
            let format = match section.format.as_deref() {
                None => crate::parse::Format::Auto,
                Some(text) => text
                    .parse()
                    .map_err(|problem| error(format!("key `inputs.{key}.format`: {problem}")))?,
            };
            let server_names = section.server_names.unwrap_or_else(|| {
                let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
                if let Ok(hostname) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
                    let hostname = hostname.trim();
                    if !hostname.is_empty() && hostname != "localhost" {
                        names.push(hostname.to_owned());
                    }
                }
                names
            });
            Ok(Some(Listener {
                address,
                tls,
                format,
                server_names,
            }))
        };
        Ok(ServeConfig {
            data_dir: file.data_dir.unwrap_or_else(|| PathBuf::from("haidang-data")),
            rules: file.rules.unwrap_or_else(|| vec![PathBuf::from("rules/haidang")]),
            mappings: file.mappings,
            inventory: file.inventory,
            default_offset,
            threads: positive("threads", file.threads, cores)?,
            queue_capacity: positive("queue_capacity", file.queue_capacity, 8192)?,
            max_line_bytes: positive("max_line_bytes", file.max_line_bytes, 65_536)?,
            watch_rules: file.watch_rules.unwrap_or(true),
            syslog_udp: listener(
                "syslog_udp",
                file.inputs.syslog_udp,
                Some("127.0.0.1:5514"),
                false,
            )?,
            syslog_tcp: listener(
                "syslog_tcp",
                file.inputs.syslog_tcp,
                Some("127.0.0.1:5514"),
                false,
            )?,
            syslog_tls: listener("syslog_tls", file.inputs.syslog_tls, Some("127.0.0.1:6514"), true)?,
            http: listener("http", file.inputs.http, Some("127.0.0.1:8514"), false)?,
            agents: listener("agents", file.inputs.agents, Some("127.0.0.1:5044"), false)?,
            ui: if file.ui.enabled == Some(false) {
                None
            } else {
                let listen = file.ui.listen.as_deref().unwrap_or("127.0.0.1:8443");
                let address: SocketAddr = listen
                    .parse()
                    .map_err(|_| error(format!("key `ui.listen`: `{listen}` is not an address:port")))?;
                let certificate = match (file.ui.certificate, file.ui.key) {
                    (Some(certificate), Some(key)) => Some((certificate, key)),
                    (None, None) => None,
                    _ => {
                        return Err(error(
                            "keys `ui.certificate` and `ui.key`: give both or neither".into(),
                        ));
                    }
                };
                Some(super::ui::UiListener {
                    address,
                    certificate,
                    tls: file.ui.tls.unwrap_or(true),
                })
            },
            index_memory_bytes: positive("index.writer_memory_mb", file.index.writer_memory_mb, 128)?.get()
                << 20,
            retention: file.index.retention,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_localhost_without_tls() {
        let config = ServeConfig::defaults();
        assert_eq!(config.syslog_udp.unwrap().address.to_string(), "127.0.0.1:5514");
        assert_eq!(config.http.unwrap().address.to_string(), "127.0.0.1:8514");
        assert!(config.syslog_tls.is_none());
        assert_eq!(config.default_offset, UtcOffset::from_hms(7, 0, 0).unwrap());
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let error = ServeConfig::parse(
            "haidang.toml",
            "version = 1\n\n[inputs.syslog_udp]\nlisten = \"nowhere\"\n",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "haidang.toml: key `inputs.syslog_udp.listen`: `nowhere` is not an address:port"
        );
        let error =
            ServeConfig::parse("haidang.toml", "version = 1\nthreads = 2\ncolour = \"red\"\n").unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("haidang.toml: ") && text.contains("line 3") && text.contains("colour"),
            "{text}"
        );
        let error = ServeConfig::parse("haidang.toml", "threads = \"many\"\n").unwrap_err();
        assert!(
            error.to_string().contains("line 1") && error.to_string().contains("threads"),
            "{error}"
        );
    }

    #[test]
    fn tls_needs_certificate_and_key() {
        let error = ServeConfig::parse(
            "c.toml",
            "[inputs.syslog_tls]\nlisten = \"127.0.0.1:6514\"\ncertificate = \"c.pem\"\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("inputs.syslog_tls.key"), "{error}");
        let config = ServeConfig::parse(
            "c.toml",
            "[inputs.syslog_tls]\ncertificate = \"c.pem\"\nkey = \"k.pem\"\n",
        )
        .unwrap();
        assert_eq!(config.syslog_tls.unwrap().address.to_string(), "127.0.0.1:6514");
    }

    #[test]
    fn inputs_can_be_turned_off_and_zero_is_refused() {
        let config = ServeConfig::parse("c.toml", "[inputs.syslog_udp]\nenabled = false\n").unwrap();
        assert!(config.syslog_udp.is_none());
        assert!(ServeConfig::parse("c.toml", "queue_capacity = 0\n").is_err());
    }

    #[test]
    fn deploy_example_config_is_valid() {
        let text = include_str!("../../../deploy/haidang.example.toml");
        ServeConfig::parse("deploy/haidang.example.toml", text).unwrap();
    }
}
