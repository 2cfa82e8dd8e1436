using System.Collections.Concurrent;

namespace CacheGen.Redis;

/// <summary>
/// Says whether something about a key may be logged now: at most once per interval per key, with a bounded memory (past
/// <see cref="Capacity"/> keys it forgets them all, which at worst logs a key once more).
/// </summary>
internal sealed class OncePerKey
{
    private const int Capacity = 1024;

    private readonly ConcurrentDictionary<string, long> _lastLogged = new(StringComparer.Ordinal);

    // now and interval are in the same units.
    public bool ShouldLog(string key, long now, long interval)
    {
        if (_lastLogged.TryGetValue(key, out long last) && now - last < interval)
            return false;
        if (_lastLogged.Count >= Capacity)
            _lastLogged.Clear();
        _lastLogged[key] = now;
        return true;
    }
}
