using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>The receiving side of the backplane: what an eviction from another instance does here.</summary>
internal interface IEvictionTarget
{
    void EvictLocalKey(string key);

    void EvictLocalTag(string tag);

    void ClearLocal();
}

/// <summary>
/// Tells other instances about evictions over Redis pub/sub, so their in-process copies go at once instead of at the
/// end of their local lifetime. A message is <c>{instance}:{kind}:{name}</c> (kind <c>k</c> = key, <c>t</c> = tag,
/// <c>a</c> = everything) and never carries a value. An instance ignores its own echoes; after a reconnect (when
/// messages may have been lost) it flushes its in-process cache.
/// </summary>
internal sealed class Backplane : IDisposable
{
    private readonly RedisStore _store;
    private readonly RedisKeyLayout _keys;
    private readonly IEvictionTarget _target;
    private readonly ILogger _logger;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly Action<RedisChannel, RedisValue> _handler;
    private readonly CancellationTokenSource _stop = new();
    private int _applied;
    private int _disposed;

    public Backplane(RedisStore store, RedisKeyLayout keys, IEvictionTarget target, ILogger logger)
    {
        _store = store;
        _keys = keys;
        _target = target;
        _logger = logger;
        _handler = OnMessage;
        _store.Reconnected += OnReconnected;
        Ready = SubscribeAsync(_stop.Token);
    }

    /// <summary>How many other instances' messages this one has acted on (tests).</summary>
    public int MessagesApplied => Volatile.Read(ref _applied);

    /// <summary>Completes once the subscription is in place.</summary>
    public Task Ready { get; }

    /// <summary>
    /// Subscribes, retrying until it works: a subscription that failed at startup (Redis down or slow) would otherwise
    /// be gone for good, since the client only renews subscriptions it has.
    /// </summary>
    private async Task SubscribeAsync(CancellationToken stop)
    {
        ConnectionMultiplexer? connection = await _store.WaitForConnectionAsync().ConfigureAwait(false);
        if (connection is null)
            return;
        ISubscriber subscriber = connection.GetSubscriber();
        var retryDelay = TimeSpan.FromMilliseconds(250);
        for (bool first = true; !stop.IsCancellationRequested; first = false)
        {
            try
            {
                await subscriber.SubscribeAsync(_keys.EvictionChannel, _handler).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                if (first)
                    Log.BackplaneSubscribeFailed(_logger, e);
                // Drop the half-made registration so the handler is not attached twice when a retry succeeds.
                try
                {
                    await subscriber.UnsubscribeAsync(_keys.EvictionChannel, _handler).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Still down; the next attempt tries again.
                }
            }
            try
            {
                await Task.Delay(retryDelay, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    private void OnReconnected(ConnectionType connectionType)
    {
        // Evictions published while this instance was cut off were lost: drop everything held in-process.
        _target.ClearLocal();
        Log.LocalCacheFlushed(_logger, connectionType);
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        string? text = message;
        if (text is null || !TryParse(text, out string instance, out char kind, out string name) || instance == _instance)
            return;
        switch (kind)
        {
            case 'k':
                _target.EvictLocalKey(name);
                break;
            case 't':
                _target.EvictLocalTag(name);
                break;
            case 'a':
                _target.ClearLocal();
                break;
            default:
                return;
        }
        Interlocked.Increment(ref _applied);
    }

    private static bool TryParse(string text, out string instance, out char kind, out string name)
    {
        instance = name = "";
        kind = '\0';
        int first = text.IndexOf(':');
        if (first < 0 || first + 2 >= text.Length || text[first + 2] != ':')
            return false;
        instance = text[..first];
        kind = text[first + 1];
        name = text[(first + 3)..];
        return true;
    }

    public ValueTask PublishKeyAsync(string key, CancellationToken cancellationToken) => Publish('k', key, cancellationToken);

    public ValueTask PublishTagAsync(string tag, CancellationToken cancellationToken) => Publish('t', tag, cancellationToken);

    public ValueTask PublishClearAsync(CancellationToken cancellationToken) => Publish('a', "", cancellationToken);

    private ValueTask Publish(char kind, string name, CancellationToken cancellationToken) =>
        _store.PublishAsync($"{_instance}:{kind}:{name}", cancellationToken);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _store.Reconnected -= OnReconnected;
        _stop.Cancel();
        _stop.Dispose();
    }
}
