using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// Tells other instances about evictions over Redis pub/sub, so their in-process copies go at once instead of at the
/// end of their local lifetime. A message is <c>{instance}:{kind}:{name}</c> (kind <c>k</c> = key, <c>t</c> = tag,
/// <c>a</c> = everything, <c>p</c> = this instance's own probe) and never carries a value; an eviction of many names
/// is one message of kind <c>a</c> whose name lists them (see <see cref="EvictionBatch"/>). An instance ignores its own
/// echoes. When a connection drops, messages may be lost: the instance flushes its in-process cache at once, and again
/// once it hears its own probe on the channel (proof that the subscription is back), since entries filled between the
/// two may have missed an eviction.
/// </summary>
internal sealed class Backplane : IDisposable
{
    private readonly RedisStore _store;
    private readonly RedisKeyLayout _keys;
    private readonly IEvictionTarget _target;
    private readonly ILogger _logger;
    private readonly CacheMetrics _metrics;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly Action<RedisChannel, RedisValue> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopToken;
    private string? _pendingProbe;
    private long _lastUnreadableLog; // Environment.TickCount64 of the last log, 0 = never
    private int _applied;
    private int _resubscribed;
    private int _disposed;

    /// <summary>Fault injection and counters for tests, set by the cache that owns this backplane (null otherwise).</summary>
    internal RedisHybridCache.TestHooks? Hooks { get; init; }

    public Backplane(RedisStore store, RedisKeyLayout keys, IEvictionTarget target, ILogger logger, CacheMetrics metrics)
    {
        _store = store;
        _keys = keys;
        _target = target;
        _logger = logger;
        _metrics = metrics;
        _handler = OnMessage;
        // Kept apart from the source: a connection event racing Dispose may still read it.
        _stopToken = _stop.Token;
        _store.Connection.Disconnected += OnDisconnected;
        _store.Connection.Reconnected += OnReconnected;
        Ready = SubscribeAsync(_stop.Token);
    }

    /// <summary>How many other instances' messages this one has acted on (tests).</summary>
    public int MessagesApplied => Volatile.Read(ref _applied);

    /// <summary>How many times the subscription was confirmed back after a connection loss (tests).</summary>
    public int Resubscriptions => Volatile.Read(ref _resubscribed);

    /// <summary>Completes once the subscription is in place.</summary>
    public Task Ready { get; }

    /// <summary>
    /// Subscribes, retrying until it works: a subscription that failed at startup (Redis down or slow) would otherwise
    /// be gone for good, since the client only renews subscriptions it has.
    /// </summary>
    private async Task SubscribeAsync(CancellationToken stop)
    {
        ConnectionMultiplexer? connection = await _store.Connection.WaitAsync().ConfigureAwait(false);
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

    private void OnDisconnected(ConnectionType connectionType)
    {
        // From here until the subscription is proven back, evictions from other instances may be lost.
        _target.ClearLocal();
        Log.LocalCacheFlushedOnDisconnect(_logger, connectionType);
    }

    private void OnReconnected(ConnectionType connectionType)
    {
        // Evictions published while this instance was cut off were lost: drop everything held in-process now, and
        // once more when the probe shows the subscription itself is renewed (it is restored after the connection).
        _target.ClearLocal();
        Log.LocalCacheFlushed(_logger, connectionType);
        string probe = Guid.NewGuid().ToString("N");
        Volatile.Write(ref _pendingProbe, probe);
        _ = ProbeAsync(probe, _stopToken);
    }

    /// <summary>Publishes the probe until it comes back (or a newer reconnect supersedes it).</summary>
    private async Task ProbeAsync(string probe, CancellationToken stop)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (!stop.IsCancellationRequested && Volatile.Read(ref _pendingProbe) == probe)
        {
            await _store.PublishAsync($"{_instance}:p:{probe}", CancellationToken.None).ConfigureAwait(false);
            try
            {
                await Task.Delay(delay, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        string? text = message;
        if (text is null || !TryParse(text, out string instance, out char kind, out string name))
        {
            Unreadable(text);
            return;
        }
        if (instance == _instance)
        {
            // Compare by value, then swap by reference: only the latest probe counts, and only once.
            if (kind == 'p' && Volatile.Read(ref _pendingProbe) is { } pending && pending == name
                && Interlocked.CompareExchange(ref _pendingProbe, null, pending) == pending)
            {
                _target.ClearLocal();
                Interlocked.Increment(ref _resubscribed);
                Log.BackplaneResubscribed(_logger);
            }
            return;
        }
        if (Hooks?.DropIncomingBackplaneMessage?.Invoke() == true)
        {
            _metrics.BackplaneDropped();
            return;
        }
        switch (kind)
        {
            case 'k':
                _target.EvictLocalKey(name);
                break;
            case 't':
                _target.EvictLocalTag(name);
                break;
            case 'a' when name.Length == 0:
                _target.ClearLocal();
                break;
            case 'a':
                if (!EvictionBatch.TryRead(name, out char each, out List<string> names))
                {
                    // Read as the kind says (everything), as a build from before batches would: never too little.
                    _target.ClearLocal();
                    Unreadable(text);
                    return;
                }
                _metrics.BackplaneReceived();
                Interlocked.Increment(ref _applied);
                foreach (string evicted in names)
                {
                    if (each == 'k')
                        _target.EvictLocalKey(evicted);
                    else
                        _target.EvictLocalTag(evicted);
                    Hooks?.BackplaneMessageApplied?.Invoke(each, evicted);
                }
                return;
            case 'p':
                return;
            default:
                Unreadable(text);
                return;
        }
        _metrics.BackplaneReceived();
        Interlocked.Increment(ref _applied);
        Hooks?.BackplaneMessageApplied?.Invoke(kind, name);
    }

    /// <summary>
    /// Something on the channel that no CacheGen sent: counted, and logged at most once a minute (whoever can publish
    /// there could otherwise fill the log). It evicts nothing; the next real message works as usual.
    /// </summary>
    private void Unreadable(string? text)
    {
        _metrics.BackplaneDropped();
        long now = Environment.TickCount64;
        long last = Volatile.Read(ref _lastUnreadableLog);
        if ((last == 0 || now - last >= 60_000) && Interlocked.CompareExchange(ref _lastUnreadableLog, now, last) == last)
            Log.BackplaneMessageUnreadable(_logger, text is null ? 0 : text.Length);
    }

    /// <summary>Reads a message: <c>{instance}:{kind}:{name}</c> (the inspector's <c>watch</c> reads the channel with it too).</summary>
    public static bool TryParse(string text, out string instance, out char kind, out string name)
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

    /// <summary>Publishes an eviction as the cache names it: a key, a tag, or every entry (the tag <c>"*"</c>).</summary>
    public ValueTask PublishEvictionAsync(string name, bool isTag, CancellationToken cancellationToken) =>
        !isTag ? PublishKeyAsync(name, cancellationToken)
        : name == RedisStore.AllTags ? PublishClearAsync(cancellationToken)
        : PublishTagAsync(name, cancellationToken);

    /// <summary>
    /// Publishes the eviction of many keys or many tags (never <c>"*"</c>) as one message; a single name goes as the
    /// message a single eviction sends.
    /// </summary>
    public ValueTask PublishEvictionsAsync(IReadOnlyList<string> names, bool isTag, CancellationToken cancellationToken) =>
        names.Count == 1 ? PublishEvictionAsync(names[0], isTag, cancellationToken)
        : Publish('a', EvictionBatch.Write(isTag ? 't' : 'k', names), cancellationToken);

    private async ValueTask Publish(char kind, string name, CancellationToken cancellationToken)
    {
        if (await _store.PublishAsync($"{_instance}:{kind}:{name}", cancellationToken).ConfigureAwait(false))
            _metrics.BackplaneSent();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _store.Connection.Reconnected -= OnReconnected;
        _store.Connection.Disconnected -= OnDisconnected;
        _stop.Cancel();
        _stop.Dispose();
    }
}
