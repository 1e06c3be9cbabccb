//! TLS settings of an environment: an extra CA to trust and a client certificate for
//! mTLS, against a real TLS server that demands a client certificate (`openssl s_server`,
//! with keys made by the `openssl` command for the test).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by it.
fn pki(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=rehearse test CA",
        ],
    );
    // Extensions make them X.509 v3 certificates (webpki refuses v1).
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("client.ext"),
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    for name in ["server", "client"] {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        let mut args = vec!["x509", "-req", "-in", &*format!("{name}.csr")]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        args.extend(
            [
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
            ]
            .map(str::to_owned),
        );
        args.push(format!("{name}.pem"));
        args.extend(["-extfile".to_owned(), format!("{name}.ext")]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        openssl(dir, &args);
    }
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `openssl s_server -www` answers `GET /` with a status page, and only to clients with a
/// certificate signed by the CA (`-Verify`).
fn server(dir: &Path) -> (Server, u16) {
    let port = free_port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &port.to_string(),
            "-cert",
            "server.pem",
            "-key",
            "server.key",
            "-CAfile",
            "ca.pem",
            "-Verify",
            "1",
            "-www",
            "-quiet",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "s_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Server(child), port)
}

fn run(dir: &Path, tls: &str) -> (Option<i32>, String) {
    run_with(dir, tls, &[])
}

fn run_with(dir: &Path, tls: &str, flags: &[&str]) -> (Option<i32>, String) {
    std::fs::create_dir_all(dir.join("environments")).unwrap();
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::write(dir.join("environments/tls.yaml"), tls).unwrap();
    std::fs::write(
        dir.join("scenarios/tls.yaml"),
        "name: over mTLS\nsteps:\n  - name: status page\n    request: { url: \"{{ base }}/\", timeout: 5s }\n    expect: { status: 200, body_contains: s_server }\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(flags)
        .args(["run", "--env", "tls"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn extra_ca_and_client_certificate_reach_an_mtls_server() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    pki(&certs);
    let (_server, port) = server(&certs);
    let base = format!("vars:\n  base: https://127.0.0.1:{port}\n");

    // With the CA and the client certificate: the request goes through.
    let (code, text) = run(
        dir.path(),
        &format!(
            "{base}tls:\n  ca_file: ../certs/ca.pem\n  client_cert: ../certs/client.pem\n  client_key: ../certs/client.key\n"
        ),
    );
    assert_eq!(code, Some(0), "{text}");

    // The system's root certificates are read for the first https handshake (issue #10:
    // not when the client is built, so a plain-http run never reads them).
    let (code, text) = run_with(
        dir.path(),
        &format!(
            "{base}tls:\n  ca_file: ../certs/ca.pem\n  client_cert: ../certs/client.pem\n  client_key: ../certs/client.key\n"
        ),
        &["-vvv"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("loading the platform's TLS root certificates"),
        "{text}"
    );

    // Without the CA, the server is not trusted: the step errors, naming the certificate.
    let (code, text) = run(dir.path(), &base);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.to_lowercase().contains("certificate"), "{text}");

    // With the CA but no client certificate, the server refuses the handshake.
    let (code, text) = run(
        dir.path(),
        &format!("{base}tls:\n  ca_file: ../certs/ca.pem\n"),
    );
    assert_eq!(code, Some(1), "{text}");
}
