using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay between a client and redis-server whose client-to-server direction can be paused: bytes the
/// client sends meanwhile are held (as a network partition or a full socket buffer would) and delivered on
/// <see cref="Resume"/>. tc/iptables are not available to tests, so this is how a Redis command is made to land late.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly StringBuilder _held = new();
    private readonly Task _accepting;
    private TaskCompletionSource _gate = Open();

    public TcpRelay(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string that goes through the relay.</summary>
    public string Configuration => $"127.0.0.1:{Port},defaultDatabase=1";

    /// <summary>What the clients sent while the relay was paused (RESP text; lets a test wait for a given command).</summary>
    public string Held
    {
        get
        {
            lock (_held)
                return _held.ToString();
        }
    }

    /// <summary>Holds everything clients send from now on, until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        lock (_held)
        {
            _held.Clear();
            if (_gate.Task.IsCompleted)
                _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Delivers what was held, in order, and forwards freely again.</summary>
    public void Resume()
    {
        lock (_held)
            _gate.TrySetResult();
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, _targetPort);
            client.NoDelay = server.NoDelay = true;
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }
            _ = PumpAsync(client.GetStream(), server.GetStream(), upstream: true, client, server);
            _ = PumpAsync(server.GetStream(), client.GetStream(), upstream: false, client, server);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool upstream, TcpClient client, TcpClient server)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                    break;
                if (upstream)
                {
                    Task gate;
                    lock (_held)
                    {
                        gate = _gate.Task;
                        if (!gate.IsCompleted)
                            _held.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }
                    await gate.WaitAsync(_stop.Token);
                }
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception)
        {
            // A side closed or the relay stopped: close both ends, as a real connection would end.
        }
        client.Close();
        server.Close();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Resume();
        lock (_sockets)
        {
            foreach (TcpClient socket in _sockets)
                socket.Close();
        }
        try
        {
            await _accepting;
        }
        catch (Exception)
        {
        }
        _stop.Dispose();
    }
}
