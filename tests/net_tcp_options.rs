//! TCP set-up and options: `TcpSocket` (options, bind before connect, `SO_REUSEPORT`, listen),
//! the options of a live stream and listener, and the std conversions.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use evloop::net::{TcpListener, TcpSocket, TcpStream};
use evloop::spawn;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("an address")
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri emulates few socket options: getsockopt(SO_KEEPALIVE) is unsupported"
)]
fn a_tcp_socket_reads_back_every_option_it_was_given() {
    let socket = TcpSocket::new_v4().unwrap(); // no loop needed before listen or connect
    socket.set_reuseaddr(true).unwrap();
    assert!(socket.reuseaddr().unwrap());
    socket.set_reuseaddr(false).unwrap();
    assert!(!socket.reuseaddr().unwrap());
    socket.set_reuseport(true).unwrap();
    assert!(socket.reuseport().unwrap());
    assert_eq!(socket.keepalive().unwrap(), None, "off by default");
    socket.set_keepalive(Some(Duration::from_secs(42))).unwrap();
    assert_eq!(socket.keepalive().unwrap(), Some(Duration::from_secs(42)));
    socket.set_keepalive(None).unwrap();
    assert_eq!(socket.keepalive().unwrap(), None);
    assert_eq!(socket.linger().unwrap(), None);
    socket.set_linger(Some(Duration::ZERO)).unwrap();
    assert_eq!(socket.linger().unwrap(), Some(Duration::ZERO));
    socket.set_nodelay(true).unwrap();
    assert!(socket.nodelay().unwrap());
    // The kernel doubles a buffer-size request (Linux: room for its bookkeeping).
    socket.set_send_buffer_size(32 * 1024).unwrap();
    assert_eq!(socket.send_buffer_size().unwrap(), 64 * 1024);
    socket.set_recv_buffer_size(32 * 1024).unwrap();
    assert_eq!(socket.recv_buffer_size().unwrap(), 64 * 1024);
    assert!(socket.as_raw_fd() >= 0);
    let v6 = TcpSocket::new_v6().unwrap();
    let wrong_family = v6.bind(loopback()).unwrap_err();
    assert_eq!(wrong_family.kind(), std::io::ErrorKind::InvalidInput, "{wrong_family}");
}

#[test]
fn a_tcp_socket_bound_and_listening_accepts_one_that_connects_and_both_leave_no_registration() {
    evloop::run(async {
        let server = TcpSocket::new_v4().unwrap();
        server.bind(loopback()).unwrap();
        let listener = server.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(evloop::stats().io_sources, 1, "listen registered the listener");
        let accept = spawn(async move { listener.accept().await.unwrap().0 });
        // The same non-blocking connect as `TcpStream::connect` (tcp.rs's `connect_socket`).
        let client = TcpSocket::new_v4().unwrap().connect(addr).await.unwrap();
        let accepted = accept.await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        client.write_all(b"set up by hand").await.unwrap();
        let mut buf = [0u8; 14];
        accepted.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"set up by hand");
        drop((client, accepted));
        assert_eq!(evloop::stats().io_sources, 0);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot report the port a bind to port 0 chose until listen or connect"
)]
fn binding_before_connect_makes_the_connection_leave_from_the_chosen_port() {
    evloop::run(async {
        let listener = TcpListener::bind(loopback()).unwrap();
        let addr = listener.local_addr().unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(loopback()).unwrap();
        let from = socket.local_addr().unwrap();
        assert_ne!(from.port(), 0, "bind chose a port");
        socket.set_nodelay(true).unwrap();
        let server = spawn(async move { listener.accept().await.unwrap() });
        let stream = socket.connect(addr).await.unwrap();
        let (accepted, peer) = server.await.unwrap();
        assert_eq!(stream.local_addr().unwrap(), from);
        assert_eq!(peer, from, "the server sees the port chosen before connecting");
        assert!(stream.nodelay().unwrap(), "the option set before connect stays");
        stream.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        accepted.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates few socket options: SO_REUSEPORT is unsupported")]
fn with_so_reuseport_two_listeners_bind_one_port_and_without_it_the_second_is_refused() {
    evloop::run(async {
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        first.bind(loopback()).unwrap();
        let addr = first.local_addr().unwrap();
        let first = first.listen(16).unwrap();

        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        second.bind(addr).unwrap();
        let second = second.listen(16).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);
        assert_eq!(first.local_addr().unwrap(), addr);

        let third = TcpSocket::new_v4().unwrap();
        let refused = third.bind(addr).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::AddrInUse, "{refused}");

        // Both listen: the kernel hands each connection to one of them.
        let (a, b) = (std::rc::Rc::new(first), std::rc::Rc::new(second));
        let accepts = [a.clone(), b.clone()].map(|l| spawn(async move { l.accept().await.map(drop) }));
        let mut clients = Vec::new();
        let mut done = 0;
        for _ in 0..64 {
            clients.push(TcpStream::connect(addr).await.unwrap());
            evloop::yield_now().await;
            done = accepts.iter().filter(|t| t.is_finished()).count();
            if done == 2 {
                break;
            }
        }
        if done < 2 {
            eprintln!("NOT CHECKED: 64 connections all went to one listener, so the spreading was not seen");
        }
        for task in accepts {
            task.cancel();
            let _ = task.await;
        }
        assert_eq!(
            evloop::stats().io_sources,
            2 + clients.len(),
            "the listeners and the clients"
        );
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot listen on a socket that was not bound first")]
fn a_tcp_socket_listens_on_a_port_of_its_choosing_and_a_refused_connect_leaves_no_registration() {
    evloop::run(async {
        let listener = TcpSocket::new_v4().unwrap().listen(8).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_ne!(addr.port(), 0, "an unbound socket listens on a port the OS chooses");
        drop(listener);
        let error = TcpSocket::new_v4().unwrap().connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused, "{error}");
        assert_eq!(evloop::stats().io_sources, 0);
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri emulates few socket options: getsockopt(SO_KEEPALIVE) is unsupported"
)]
fn a_stream_and_a_listener_read_back_keepalive_linger_and_ttl() {
    evloop::run(async {
        let listener = TcpListener::bind(loopback()).unwrap();
        listener.set_ttl(33).unwrap();
        assert_eq!(listener.ttl().unwrap(), 33);
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move { listener.accept().await.unwrap().0 });
        let stream = TcpStream::connect(addr).await.unwrap();
        let accepted = server.await.unwrap();
        assert_eq!(
            accepted.ttl().unwrap(),
            33,
            "accepted sockets inherit the listener's TTL"
        );

        assert_eq!(stream.keepalive().unwrap(), None);
        stream.set_keepalive(Some(Duration::from_secs(75))).unwrap();
        assert_eq!(stream.keepalive().unwrap(), Some(Duration::from_secs(75)));
        stream.set_keepalive(None).unwrap();
        assert_eq!(stream.keepalive().unwrap(), None);
        stream.set_linger(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(stream.linger().unwrap(), Some(Duration::from_secs(3)));
        stream.set_linger(None).unwrap(); // a lingering drop would block the loop's thread
        assert_eq!(stream.linger().unwrap(), None);
        stream.set_ttl(5).unwrap();
        assert_eq!(stream.ttl().unwrap(), 5);
        assert_eq!(stream.set_ttl(0).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates few socket options: SO_LINGER is unsupported")]
fn a_zero_linger_resets_the_connection_when_the_stream_is_dropped() {
    evloop::run(async {
        let listener = TcpListener::bind(loopback()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move { listener.accept().await.unwrap().0 });
        let stream = TcpStream::connect(addr).await.unwrap();
        let accepted = server.await.unwrap();
        stream.set_linger(Some(Duration::ZERO)).unwrap();
        drop(stream);
        let error = accepted.read(&mut [0u8; 8]).await.unwrap_err();
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::ConnectionReset,
            "an RST, not a FIN: {error}"
        );
    });
}

#[test]
fn into_std_gives_blocking_tcp_sockets_and_from_std_registers_them_again() {
    evloop::run(async {
        let listener = TcpListener::bind(loopback()).unwrap();
        let addr = listener.local_addr().unwrap();
        let std_listener = listener.into_std().unwrap();
        assert_eq!(evloop::stats().io_sources, 0);
        assert!(!socket2::SockRef::from(&std_listener).nonblocking().unwrap());
        // A plain blocking std client, connected from another thread.
        let client = std::thread::spawn(move || {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            std::io::Write::write_all(&mut c, b"std").unwrap();
            c
        });
        let listener = TcpListener::from_std(std_listener).unwrap();
        assert!(socket2::SockRef::from(&listener).nonblocking().unwrap());
        let (accepted, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 3];
        accepted.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"std");
        let std_client = client.join().unwrap();
        let client = TcpStream::from_std(std_client).unwrap();
        assert_eq!(evloop::stats().io_sources, 3);
        accepted.write_all(b"back").await.unwrap();
        let mut buf = [0u8; 4];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");
        let mut blocking = client.into_std().unwrap();
        assert_eq!(evloop::stats().io_sources, 2);
        assert!(!socket2::SockRef::from(&blocking).nonblocking().unwrap());
        accepted.write_all(b"!").await.unwrap();
        let mut one = [0u8; 1];
        std::io::Read::read_exact(&mut blocking, &mut one).unwrap(); // blocks until the byte is there
        assert_eq!(&one, b"!");
    });
}
