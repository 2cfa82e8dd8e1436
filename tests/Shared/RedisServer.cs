using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CacheGen.Testing;

/// <summary>
/// A private redis-server on a free loopback port, started for a test and stopped by pid. Persistence is off unless
/// a test asks for it. Fault tests use <see cref="Kill"/>, <see cref="Freeze"/>, <see cref="Thaw"/> and <see cref="Restart"/>.
/// With <see cref="StartTls"/> it speaks TLS only.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string[] _extraArguments;
    private readonly RedisTls? _tls;
    private Process? _process;

    private RedisServer(string[] extraArguments, RedisTls? tls = null)
    {
        _extraArguments = extraArguments;
        _tls = tls;
        Directory = Path.Combine(Path.GetTempPath(), "cachegen-redis-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The loopback port the server listens on (kept across <see cref="Restart"/>).</summary>
    public int Port { get; private set; }

    /// <summary>The server's working directory (its dump and AOF files, when persistence is on).</summary>
    public string Directory { get; }

    /// <summary>The running process's id.</summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException("redis-server is not running.");

    /// <summary>A StackExchange.Redis configuration string for this server (<c>ssl=true</c> for a TLS server).</summary>
    public string Configuration => _tls is null ? $"127.0.0.1:{Port}" : $"127.0.0.1:{Port},ssl=true";

    /// <summary>Starts redis-server with <c>--save '' --appendonly no</c> plus <paramref name="extraArguments"/>.</summary>
    public static RedisServer Start(params string[] extraArguments) => Launched(new RedisServer(extraArguments) { Port = FreePort() });

    /// <summary>Starts a redis-server that listens on a TLS port only (<c>--port 0 --tls-port N</c>), with <paramref name="tls"/>'s files.</summary>
    public static RedisServer StartTls(RedisTls tls) => Launched(new RedisServer([], tls) { Port = FreePort() });

    private static RedisServer Launched(RedisServer server)
    {
        try
        {
            server.Launch();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Like <see cref="Start"/>, on a port the caller chose (a cluster node also needs port + 10000 free for its bus).</summary>
    public static RedisServer StartOnPort(int port, params string[] extraArguments) => Launched(new RedisServer(extraArguments) { Port = port });

    /// <summary>Kills the process with SIGKILL, as a crash would.</summary>
    public void Kill()
    {
        if (_process is null)
            return;
        try
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Freezes the process (SIGSTOP): connections stay open, nothing answers.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Resumes a frozen process (SIGCONT).</summary>
    public void Thaw() => Signal("CONT");

    /// <summary>Starts the server again on the same port and directory (after <see cref="Kill"/>).</summary>
    public void Restart()
    {
        Kill();
        Launch();
    }

    /// <summary>Runs one command through redis-cli and returns its output.</summary>
    public string Cli(params string[] arguments)
    {
        var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-p");
        info.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (_tls is not null)
        {
            foreach (string argument in new[] { "-h", "127.0.0.1", "--tls", "--cacert", _tls.AuthorityPath, "--cert", _tls.ClientCertificatePath, "--key", _tls.ClientKeyPath })
                info.ArgumentList.Add(argument);
        }
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        using Process cli = Process.Start(info)!;
        string output = cli.StandardOutput.ReadToEnd();
        cli.WaitForExit();
        return output.Trim();
    }

    public void Dispose()
    {
        Kill();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Launch()
    {
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Directory,
        };
        string port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] listen = _tls is null
            ? ["--port", port]
            : ["--port", "0", "--tls-port", port, "--tls-cert-file", _tls.CertificatePath, "--tls-key-file", _tls.KeyPath,
               "--tls-ca-cert-file", _tls.AuthorityPath, "--tls-auth-clients", _tls.RequireClientCertificates ? "yes" : "no"];
        foreach (string argument in listen)
            info.ArgumentList.Add(argument);
        foreach (string argument in new[] { "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", Directory, "--protected-mode", "no" })
            info.ArgumentList.Add(argument);
        foreach (string argument in _extraArguments)
            info.ArgumentList.Add(argument);
        try
        {
            _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed: run `apt-get install redis-server` (./test.sh does).", e);
        }
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntilReady();
    }

    private void WaitUntilReady()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process!.HasExited)
                throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode} on port {Port}.");
            if (_tls is not null)
            {
                // A raw PING cannot cross TLS: ask redis-cli, which speaks it.
                if (Cli("PING") == "PONG")
                    return;
                Thread.Sleep(50);
                continue;
            }
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                using NetworkStream stream = client.GetStream();
                stream.Write("PING\r\n"u8);
                var reply = new byte[64];
                int read = stream.Read(reply, 0, reply.Length);
                string answer = Encoding.ASCII.GetString(reply, 0, read);
                // A server started with --requirepass answers -NOAUTH: it is up all the same.
                if (answer.StartsWith("+PONG", StringComparison.Ordinal) || answer.StartsWith("-NOAUTH", StringComparison.Ordinal))
                    return;
            }
            catch (SocketException)
            {
            }
            Thread.Sleep(20);
        }
        throw new TimeoutException($"redis-server did not answer PING on port {Port} within 20 s.");
    }

    private void Signal(string signal)
    {
        using Process kill = Process.Start("kill", $"-{signal} {Pid}");
        kill.WaitForExit();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// The files of a TLS redis-server: its certificate and key, the authority that signed them (and the clients'), and
/// the client certificate redis-cli presents. <see cref="RequireClientCertificates"/> makes the server demand one.
/// </summary>
public sealed record RedisTls(string CertificatePath, string KeyPath, string AuthorityPath, string ClientCertificatePath, string ClientKeyPath,
    bool RequireClientCertificates = false);
