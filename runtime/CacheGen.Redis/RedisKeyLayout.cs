using System.Globalization;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// Redis key names, Django style: <c>{KeyPrefix}:{KeyVersion}:{key}</c> for an entry and
/// <c>{KeyPrefix}:{KeyVersion}:gen:{tag}</c> (braces literal) for a region's generation counter. Generated keys start
/// with <c>{region}</c>, so an entry and its region's counter share a Redis Cluster hash slot and one Lua script may
/// touch both.
/// </summary>
internal sealed class RedisKeyLayout
{
    private readonly string _prefix;

    public RedisKeyLayout(string keyPrefix, int keyVersion)
    {
        // Django's make_key: '%s:%s:%s' % (prefix, version, key), so an empty prefix gives ":1:key".
        _prefix = keyPrefix + ":" + keyVersion.ToString(CultureInfo.InvariantCulture) + ":";
        EvictionChannel = RedisChannel.Literal(_prefix + "cachegen:evict");
    }

    /// <summary>The text every key starts with, e.g. <c>example:1:</c>.</summary>
    public string Prefix => _prefix;

    /// <summary>The pub/sub channel that carries evictions between instances.</summary>
    public RedisChannel EvictionChannel { get; }

    public RedisKey Entry(string key) => _prefix + key;

    /// <summary>The cross-instance fill lease of an entry: the key's own hash tag comes first, so it shares the entry's slot.</summary>
    public RedisKey Lease(string key) => _prefix + "lease:" + key;

    public RedisKey Generation(string tag) => _prefix + "gen:{" + tag + "}";

    /// <summary>The entry key followed by one generation key per tag, in tag order: the KEYS of the read and write scripts.</summary>
    public RedisKey[] EntryAndGenerations(string key, string[] tags)
    {
        var keys = new RedisKey[tags.Length + 1];
        keys[0] = Entry(key);
        for (int i = 0; i < tags.Length; i++)
            keys[i + 1] = Generation(tags[i]);
        return keys;
    }
}
