//! A TCP relay in front of a real server of the shared stack, for fault tests that need the
//! server to go away and come back under one service without stopping it for every other test:
//! the service is pointed at the relay, which passes bytes both ways to the real server until
//! it is [`Relay::stop`]ped. Stopped, it refuses connections and cuts the open ones, which is
//! how a restarting server looks from its clients; [`Relay::start`] listens on the same port
//! again. [`Relay::freeze`] makes it silent instead, as a server stopped with SIGSTOP is to its
//! clients: connections are still accepted and bytes still taken, but nothing passes either way
//! until [`Relay::thaw`] (the shared server itself cannot be stopped: every other test uses it).
//! Whatever the service reads and writes is the real server's.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub struct Relay {
    /// The port the service is pointed at.
    pub port: u16,
    upstream: SocketAddr,
    /// Cancelled to stop: ends the accept loop and every connection it relays.
    running: Option<CancellationToken>,
    /// While true, nothing is passed on (see [`Relay::freeze`]).
    frozen: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    /// A relay to `127.0.0.1:upstream_port`, already started.
    pub async fn to(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let port = listener.local_addr().expect("bound").port();
        let (frozen, _) = tokio::sync::watch::channel(false);
        let mut relay = Self { port, upstream: ([127, 0, 0, 1], upstream_port).into(), running: None, frozen };
        relay.serve(listener);
        relay
    }

    fn serve(&mut self, listener: TcpListener) {
        let token = CancellationToken::new();
        let (upstream, frozen) = (self.upstream, self.frozen.subscribe());
        let stopped = token.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = stopped.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((client, _)) = accepted else { continue };
                let (stopped, frozen) = (stopped.clone(), frozen.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    let ((client_rx, client_tx), (server_rx, server_tx)) = (client.into_split(), server.into_split());
                    tokio::select! {
                        () = stopped.cancelled() => {}
                        _ = pump(client_rx, server_tx, frozen.clone()) => {}
                        _ = pump(server_rx, client_tx, frozen) => {}
                    }
                });
            }
        });
        self.running = Some(token);
    }

    /// Passes nothing on, either way, until [`Relay::thaw`]: the server looks frozen.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }

    /// Refuses new connections and cuts the open ones.
    pub fn stop(&mut self) {
        if let Some(token) = self.running.take() {
            token.cancel();
        }
    }

    /// Listens on the same port again.
    pub async fn start(&mut self) {
        if self.running.is_some() {
            return;
        }
        let mut last = None;
        for _ in 0..100 {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => return self.serve(listener),
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the relay's port {} could not be bound again: {last:?}", self.port);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Copies `from` to `to`, holding what it read while the relay is frozen.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0_u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        if frozen.wait_for(|f| !*f).await.is_err() {
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
    }
}
