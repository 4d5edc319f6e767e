//! A TCP relay in front of a real server of the shared stack, for fault tests that need the
//! server to go away and come back under one service without stopping it for every other test:
//! the service is pointed at the relay, which passes bytes both ways to the real server until
//! it is [`Relay::stop`]ped. Stopped, it refuses connections and cuts the open ones, which is
//! how a restarting server looks from its clients; [`Relay::start`] listens on the same port
//! again. Whatever the service reads and writes is the real server's.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub struct Relay {
    /// The port the service is pointed at.
    pub port: u16,
    upstream: SocketAddr,
    /// Cancelled to stop: ends the accept loop and every connection it relays.
    running: Option<CancellationToken>,
}

impl Relay {
    /// A relay to `127.0.0.1:upstream_port`, already started.
    pub async fn to(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let port = listener.local_addr().expect("bound").port();
        let mut relay = Self { port, upstream: ([127, 0, 0, 1], upstream_port).into(), running: None };
        relay.serve(listener);
        relay
    }

    fn serve(&mut self, listener: TcpListener) {
        let token = CancellationToken::new();
        let upstream = self.upstream;
        let stopped = token.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = stopped.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut client, _)) = accepted else { continue };
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                    tokio::select! {
                        () = stopped.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    }
                });
            }
        });
        self.running = Some(token);
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
