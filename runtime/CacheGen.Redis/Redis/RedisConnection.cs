using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// The one connection to Redis: its configuration (what CacheGen's outage behaviour depends on is applied last), made
/// in the background so the application starts while Redis is down, and its connect/disconnect events.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable, IDisposable
{
    private static readonly ConfigurationOptions ClientDefaults = new();

    private readonly ConfigurationOptions _configuration;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private readonly Task<ConnectionMultiplexer?> _connection;

    public RedisConnection(CacheGenOptions options, RedisKeyLayout keys, ILogger logger, CacheMetrics metrics)
    {
        _timeout = options.RedisTimeout;
        _logger = logger;
        _metrics = metrics;
        _configuration = ConfigurationOptions.Parse(options.Redis!);
        // The user's TLS trust, client certificate, credentials...; the settings below, which the ACL and the outage
        // behaviour depend on, are applied after it (the ACL ones only where the user left the client's default).
        options.ConfigureRedis?.Invoke(_configuration);
        // Logged as the user configured it: the settings below are CacheGen's own and would only puzzle a reader
        // ("abortConnect=False,$CONFIG=").
        string configured = _configuration.ToString(includePassword: false);
        // The client's default tie-breaker key and configuration channel lie outside the key prefix, where an ACL user
        // limited to it is refused. CacheGen needs no tie-breaker; the channel moves under the prefix (the client
        // subscribes to it as it connects, which readies the pub/sub connection for the backplane).
        if (_configuration.TieBreaker == ClientDefaults.TieBreaker)
            _configuration.TieBreaker = "";
        if (_configuration.ConfigurationChannel == ClientDefaults.ConfigurationChannel)
            _configuration.ConfigurationChannel = keys.Prefix + "cachegen:config";
        // CONFIG is an admin command (CONFIG GET reveals requirepass) that the client uses only for tuning; leave it
        // out so the ACL user needs no admin rights. A command map the user chose is kept.
        if (ReferenceEquals(_configuration.CommandMap, CommandMap.Default))
            _configuration.CommandMap = CommandMap.Create(new HashSet<string> { "CONFIG" }, available: false);
        // Start while Redis is down and reconnect by itself; a cache must never keep the application from starting.
        _configuration.AbortOnConnectFail = false;
        // Chosen on purpose: while disconnected, fail at once (the call falls through to the data) instead of queueing
        // commands until the connection is back. A backlog would make every request wait up to the timeout during an
        // outage, and would later send writes computed long ago. Those failures also open the circuit breaker quickly.
        _configuration.BacklogPolicy = BacklogPolicy.FailFast;
        // The client's own timeouts match ours, so a command abandoned by the call policy is also given up by the client.
        int timeoutMs = (int)Math.Clamp(_timeout.TotalMilliseconds, 1, int.MaxValue);
        _configuration.AsyncTimeout = timeoutMs;
        _configuration.SyncTimeout = timeoutMs;

        Log.RedisConfigured(_logger, configured, keys.Prefix);
        _connection = ConnectAsync();
    }

    /// <summary>Raised when a connection is (re)established; messages sent while it was down may have been lost.</summary>
    public event Action<ConnectionType>? Reconnected;

    /// <summary>Raised when a connection fails; pub/sub messages may be lost until it is back.</summary>
    public event Action<ConnectionType>? Disconnected;

    /// <summary>The connection, however long it takes to set up (the backplane subscribes in the background).</summary>
    public Task<ConnectionMultiplexer?> WaitAsync() => _connection;

    /// <summary>The connection, waiting for it no longer than the Redis timeout; null if it can never be made.</summary>
    public async ValueTask<ConnectionMultiplexer?> GetAsync(CancellationToken cancellationToken)
    {
        Task<ConnectionMultiplexer?> connecting = _connection;
        if (!connecting.IsCompleted)
            await connecting.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        return connecting.Result;
    }

    /// <summary>The database named by the configuration string (defaultDatabase=N).</summary>
    public async ValueTask<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken)
    {
        ConnectionMultiplexer? connection = await GetAsync(cancellationToken).ConfigureAwait(false);
        return connection?.GetDatabase() ?? throw new InvalidOperationException("CacheGen has no Redis connection.");
    }

    private async Task<ConnectionMultiplexer?> ConnectAsync()
    {
        try
        {
            ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
            connection.ConnectionFailed += (_, e) =>
            {
                _metrics.RedisError();
                Log.RedisConnectionFailed(_logger, e.EndPoint?.ToString(), e.ConnectionType, e.FailureType);
                Disconnected?.Invoke(e.ConnectionType);
            };
            connection.ConnectionRestored += (_, e) =>
            {
                Log.RedisConnectionRestored(_logger, e.EndPoint?.ToString(), e.ConnectionType);
                Reconnected?.Invoke(e.ConnectionType);
            };
            // A failure during the first connect was raised before the handlers above existed (a refused TLS
            // certificate, a wrong password, Redis down): say so once. PING fails fast while disconnected and its
            // error carries the client's reason.
            if (!connection.IsConnected)
            {
                try
                {
                    await connection.GetDatabase().PingAsync().ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    Log.RedisNotConnectedAtStart(_logger, string.Join(",", connection.GetEndPoints().Select(p => p.ToString())), e);
                }
            }
            return connection;
        }
        catch (Exception e)
        {
            // With AbortOnConnectFail off this is a configuration the client cannot use at all; stay in-process.
            Log.RedisConnectFailed(_logger, e);
            return null;
        }
    }

    public void Dispose()
    {
        // Still connecting: close the connection when it is made rather than block here.
        if (_connection.IsCompletedSuccessfully)
            _connection.Result?.Dispose();
        else
            _ = _connection.ContinueWith(static t => t.Result?.Dispose(), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsCompletedSuccessfully && _connection.Result is { } connection)
            await connection.DisposeAsync().ConfigureAwait(false);
        else
            Dispose();
    }
}
