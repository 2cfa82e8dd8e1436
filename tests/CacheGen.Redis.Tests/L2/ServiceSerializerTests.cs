using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using CacheGen.Redis.Tests.Infrastructure;
using MemoryPack;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Serializers an app registers for HybridCache (<c>AddHybridCache().AddSerializer</c>, <c>AddSerializerFactory</c>)
/// write their types in Redis ahead of JSON, chosen as Microsoft's HybridCache chooses, with the writer recorded so an
/// entry is never handed to another serializer. MemoryPack is the real binary serializer; <see cref="OrderTextSerializer"/>
/// a small custom one.
/// </summary>
public sealed class ServiceSerializerTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly Order Sample = new() { Id = 7, Customer = "Ada", Lines = ["tea", "cake"] };

    private static void MemoryPackForOrders(IServiceCollection services) =>
        services.AddHybridCache().AddSerializer<Order, MemoryPackHybridSerializer<Order>>();

    /// <summary>What Redis holds under the key: the payload format byte and the payload.</summary>
    private async Task<(byte Format, byte[] Payload)> StoredAsync(string key)
    {
        byte[] stored = (await redis.Database.StringGetAsync(Entry.RedisKey(key)))!;
        Assert.Equal(EnvelopeKind.Value, Envelope.Parse(stored, out _, out int payloadOffset, out _));
        return (Envelope.GetFormat(stored, payloadOffset), stored[payloadOffset..]);
    }

    [Fact]
    public async Task A_type_with_a_MemoryPack_serializer_is_stored_as_MemoryPack_bytes_and_read_back_by_another_instance()
    {
        await using var writer = CacheInstance.Create(redis.Configuration, register: MemoryPackForOrders);
        await using var reader = CacheInstance.Create(redis.Configuration, register: MemoryPackForOrders);
        string key = Entry.UniqueKey();

        await writer.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(Sample), tags: Entry.Posts);
        await writer.SettledAsync();

        // AddCacheGen after AddHybridCache: the HybridCache is CacheGen's, and it used the app's serializer.
        Assert.IsType<RedisHybridCache>(writer.Cache);
        (byte format, byte[] payload) = await StoredAsync(key);
        Assert.Equal(PayloadFormat.ServiceSerializer, format);
        Assert.Equal(MemoryPackSerializer.Serialize(Sample), payload);
        Assert.NotEqual((byte)'{', payload[0]);
        Assert.DoesNotContain("\"customer\"", Encoding.UTF8.GetString(payload), StringComparison.OrdinalIgnoreCase);

        var none = new CountingFactory<Order>(_ => new Order());
        Order read = await reader.Cache.GetOrCreateAsync(key, none.Invoke, tags: Entry.Posts);
        Assert.Equal(0, none.Calls);
        Assert.Equal((7, "Ada", "tea;cake"), (read.Id, read.Customer, string.Join(';', read.Lines)));
        // A mutable type: each hit is its own copy, from the MemoryPack bytes L1 keeps.
        Assert.NotSame(read, await reader.Cache.GetOrCreateAsync(key, none.Invoke, tags: Entry.Posts));
    }

    [Fact]
    public async Task A_large_MemoryPack_value_is_compressed_too()
    {
        await using var writer = CacheInstance.Create(redis.Configuration, o => o.CompressAboveBytes = 1024, register: MemoryPackForOrders);
        await using var reader = CacheInstance.Create(redis.Configuration, o => o.CompressAboveBytes = int.MaxValue, register: MemoryPackForOrders);
        string key = Entry.UniqueKey();
        var large = new Order { Id = 1, Customer = "Big", Lines = [.. Enumerable.Range(1, 500).Select(i => $"line {i}")] };

        await writer.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(large), tags: Entry.Posts);
        await writer.SettledAsync();

        Assert.Equal(PayloadFormat.ServiceSerializer | PayloadFormat.Lz4, (await StoredAsync(key)).Format);
        Order read = await reader.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Order()), tags: Entry.Posts);
        Assert.Equal(large.Lines, read.Lines);
    }

    private static IHybridCacheBuilder TwoFactories(IServiceCollection services) => services.AddHybridCache()
        .AddSerializerFactory(new MemoryPackFactory())   // claims Order and Reading; registered first
        .AddSerializerFactory(new TextOrdersFactory());  // claims Order; registered last, so asked first

    [Fact]
    public async Task The_serializer_for_the_type_comes_first_then_the_factory_registered_last_and_other_types_stay_JSON()
    {
        await using var factories = CacheInstance.Create(redis.Configuration, register: services => TwoFactories(services));
        string order = Entry.UniqueKey(), reading = Entry.UniqueKey(), post = Entry.UniqueKey();

        await factories.Cache.GetOrCreateAsync(order, _ => ValueTask.FromResult(Sample), tags: Entry.Posts);
        await factories.Cache.GetOrCreateAsync(reading, _ => ValueTask.FromResult(new Reading("kitchen", 21.5)), tags: Entry.Posts);
        await factories.Cache.GetOrCreateAsync(post, _ => ValueTask.FromResult(new Post(1, "t", "c")), tags: Entry.Posts);
        await factories.SettledAsync();

        Assert.Equal("order 7 Ada tea;cake", Encoding.UTF8.GetString((await StoredAsync(order)).Payload));
        Assert.Equal(MemoryPackSerializer.Serialize(new Reading("kitchen", 21.5)), (await StoredAsync(reading)).Payload);
        (byte format, byte[] payload) = await StoredAsync(post);
        Assert.Equal(PayloadFormat.Json, format);
        Assert.Equal("{\"id\":1,\"title\":\"t\",\"content\":\"c\"}", Encoding.UTF8.GetString(payload));

        // The custom format reads back on another instance registered the same way.
        await using var reader = CacheInstance.Create(redis.Configuration, register: services => TwoFactories(services));
        Order read = await reader.Cache.GetOrCreateAsync(order, _ => ValueTask.FromResult(new Order()), tags: Entry.Posts);
        Assert.Equal((7, "Ada", "tea;cake"), (read.Id, read.Customer, string.Join(';', read.Lines)));

        // A serializer registered for the type itself wins over every factory.
        await using var specific = CacheInstance.Create(redis.Configuration,
            register: services => TwoFactories(services).AddSerializer<Order, MemoryPackHybridSerializer<Order>>());
        string another = Entry.UniqueKey();
        await specific.Cache.GetOrCreateAsync(another, _ => ValueTask.FromResult(Sample), tags: Entry.Posts);
        await specific.SettledAsync();
        Assert.Equal(MemoryPackSerializer.Serialize(Sample), (await StoredAsync(another)).Payload);
    }

    [Fact]
    public async Task A_JSON_entry_is_a_miss_to_an_instance_with_a_binary_serializer_and_the_reverse_without_reporting_corruption()
    {
        await using var json = CacheInstance.Create(redis.Configuration);
        await using var binary = CacheInstance.Create(redis.Configuration, register: MemoryPackForOrders);
        string jsonFirst = Entry.UniqueKey(), binaryFirst = Entry.UniqueKey();

        await json.Cache.GetOrCreateAsync(jsonFirst, _ => ValueTask.FromResult(Sample), tags: Entry.Posts);
        await binary.Cache.GetOrCreateAsync(binaryFirst, _ => ValueTask.FromResult(Sample), tags: Entry.Posts);
        await json.SettledAsync();
        await binary.SettledAsync();
        Assert.Equal(PayloadFormat.Json, (await StoredAsync(jsonFirst)).Format);
        Assert.Equal(PayloadFormat.ServiceSerializer, (await StoredAsync(binaryFirst)).Format);

        var toBinary = new CountingFactory<Order>(i => new Order { Id = 100 + i });
        var toJson = new CountingFactory<Order>(i => new Order { Id = 200 + i });
        Assert.Equal(101, (await binary.Cache.GetOrCreateAsync(jsonFirst, toBinary.Invoke, tags: Entry.Posts)).Id);
        Assert.Equal(201, (await json.Cache.GetOrCreateAsync(binaryFirst, toJson.Invoke, tags: Entry.Posts)).Id);
        Assert.Empty(binary.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Empty(json.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        // Each miss was filled and written back in the reader's own format.
        await json.SettledAsync();
        await binary.SettledAsync();
        Assert.Equal(PayloadFormat.ServiceSerializer, (await StoredAsync(jsonFirst)).Format);
        Assert.Equal(PayloadFormat.Json, (await StoredAsync(binaryFirst)).Format);
    }

    [Fact]
    public async Task Serializers_registered_after_AddCacheGen_count_too_and_AddHybridCache_then_keeps_CacheGens_cache()
    {
        var services = new ServiceCollection();
        services.AddCacheGen(o => { o.Redis = redis.Configuration; o.KeyPrefix = "example"; o.RedisTimeout = TimeSpan.FromSeconds(5); });
        MemoryPackForOrders(services);
        await using ServiceProvider provider = services.BuildServiceProvider();
        var cache = Assert.IsType<RedisHybridCache>(provider.GetRequiredService<HybridCache>());
        string key = Entry.UniqueKey();

        await cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(Sample), tags: Entry.Posts);
        await cache.Hooks.WritesLanded();

        Assert.Equal(MemoryPackSerializer.Serialize(Sample), (await StoredAsync(key)).Payload);
    }

    [Fact]
    public async Task AddHybridCache_with_no_serializers_of_the_app_keeps_CacheGens_JSON_for_strings_and_records()
    {
        await using var instance = CacheInstance.Create(redis.Configuration, register: services => services.AddHybridCache());
        string text = Entry.UniqueKey(), post = Entry.UniqueKey();

        await instance.Cache.GetOrCreateAsync(text, _ => ValueTask.FromResult("hello"), tags: Entry.Posts);
        await instance.Cache.GetOrCreateAsync(post, _ => ValueTask.FromResult(new Post(1, "t", "c")), tags: Entry.Posts);
        await instance.SettledAsync();

        Assert.IsType<RedisHybridCache>(instance.Cache);
        Assert.Equal((PayloadFormat.Json, "\"hello\""), ((await StoredAsync(text)).Format, Encoding.UTF8.GetString((await StoredAsync(text)).Payload)));
        Assert.Equal(PayloadFormat.Json, (await StoredAsync(post)).Format);
    }
}

[MemoryPackable]
public sealed partial class Order
{
    public int Id { get; set; }
    public string Customer { get; set; } = "";
    public List<string> Lines { get; set; } = [];
}

[MemoryPackable]
public sealed partial record Reading(string Room, double Celsius);

/// <summary>MemoryPack behind HybridCache's serializer interface, as an app would write it.</summary>
public sealed class MemoryPackHybridSerializer<T> : IHybridCacheSerializer<T>
{
    public T Deserialize(ReadOnlySequence<byte> source) => MemoryPackSerializer.Deserialize<T>(source)!;

    public void Serialize(T value, IBufferWriter<byte> target) => MemoryPackSerializer.Serialize(target, value);
}

public sealed class MemoryPackFactory : IHybridCacheSerializerFactory
{
    public bool TryCreateSerializer<T>([NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
    {
        serializer = typeof(T) == typeof(Order) || typeof(T) == typeof(Reading) ? new MemoryPackHybridSerializer<T>() : null;
        return serializer is not null;
    }
}

/// <summary>A small custom text format for orders: <c>order {id} {customer} {line;line}</c>.</summary>
public sealed class OrderTextSerializer : IHybridCacheSerializer<Order>
{
    public Order Deserialize(ReadOnlySequence<byte> source)
    {
        string[] parts = Encoding.UTF8.GetString(source.ToArray()).Split(' ', 4);
        if (parts is not ["order", var id, var customer, var lines])
            throw new FormatException("not an order");
        return new Order { Id = int.Parse(id), Customer = customer, Lines = [.. lines.Split(';')] };
    }

    public void Serialize(Order value, IBufferWriter<byte> target) =>
        target.Write(Encoding.UTF8.GetBytes($"order {value.Id} {value.Customer} {string.Join(';', value.Lines)}"));
}

public sealed class TextOrdersFactory : IHybridCacheSerializerFactory
{
    public bool TryCreateSerializer<T>([NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
    {
        serializer = typeof(T) == typeof(Order) ? (IHybridCacheSerializer<T>)(object)new OrderTextSerializer() : null;
        return serializer is not null;
    }
}
