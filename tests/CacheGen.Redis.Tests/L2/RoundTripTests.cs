using System.Text.Json;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Serialization never turns a successful data call into an exception or a wrong value: a value reads back exactly as
/// the data call returned it, from L1, from Redis and for every joiner, or it is returned to every caller and not cached
/// (one warning per type, and <c>cachegen.uncacheable_values</c>).
/// </summary>
public sealed class RoundTripTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_null_JsonPayload_is_cached_and_read_back_as_null(bool withRedis)
    {
        await using var writer = CacheInstance.Create(withRedis ? redis.Configuration : null);
        await using var reader = CacheInstance.Create(withRedis ? redis.Configuration : null);
        string key = Entry.UniqueKey();
        var factory = new CountingFactory<JsonPayload?>(_ => null);

        Assert.Null(await writer.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts));
        Assert.Null(await writer.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts));
        Assert.Equal(1, factory.Calls);
        if (withRedis)
        {
            await writer.SettledAsync();
            var other = new CountingFactory<JsonPayload?>(_ => JsonPayload.FromUtf8("""{"not":"cached"}"""u8.ToArray()));
            Assert.Null(await reader.Cache.GetOrCreateAsync(key, other.Invoke, tags: Entry.Posts));
            Assert.Equal(0, other.Calls);
        }
        Assert.DoesNotContain(writer.Logs.Lines, l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task A_payload_holding_JSON_null_stays_a_payload_and_a_null_payload_stays_null()
    {
        await using var writer = CacheInstance.Create(redis.Configuration);
        await using var reader = CacheInstance.Create(redis.Configuration);
        string holdsNull = Entry.UniqueKey();
        string isNull = Entry.UniqueKey();
        await writer.Cache.GetOrCreateAsync(holdsNull, _ => ValueTask.FromResult<JsonPayload?>(JsonPayload.FromUtf8("null"u8.ToArray())), tags: Entry.Posts);
        await writer.Cache.GetOrCreateAsync(isNull, _ => ValueTask.FromResult<JsonPayload?>(null), tags: Entry.Posts);
        await writer.SettledAsync();

        JsonPayload? payload = await reader.Cache.GetOrCreateAsync(holdsNull, _ => ValueTask.FromResult<JsonPayload?>(null), tags: Entry.Posts);
        JsonPayload? none = await reader.Cache.GetOrCreateAsync(isNull, _ => ValueTask.FromResult<JsonPayload?>(JsonPayload.FromUtf8("1"u8.ToArray())), tags: Entry.Posts);

        Assert.Equal("null", Assert.IsType<JsonPayload>(payload).ToString());
        Assert.Null(none);
    }

    [Fact]
    public async Task Value_tuples_field_only_types_and_dictionaries_of_them_read_back_from_Redis_and_L1_as_stored()
    {
        await using var writer = CacheInstance.Create(redis.Configuration);
        await using var reader = CacheInstance.Create(redis.Configuration);
        string tupleKey = Entry.UniqueKey(), pointKey = Entry.UniqueKey(), mapKey = Entry.UniqueKey();
        await writer.Cache.GetOrCreateAsync(tupleKey, _ => ValueTask.FromResult((1, 2)), tags: Entry.Posts);
        await writer.Cache.GetOrCreateAsync(pointKey, _ => ValueTask.FromResult(new FieldPoint { X = 3, Y = 4 }), tags: Entry.Posts);
        await writer.Cache.GetOrCreateAsync(mapKey, _ => ValueTask.FromResult(new Dictionary<string, (int, string)> { ["a"] = (5, "six") }), tags: Entry.Posts);
        await writer.SettledAsync();

        // From Redis on another instance, then from that instance's L1.
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal((1, 2), await reader.Cache.GetOrCreateAsync(tupleKey, _ => ValueTask.FromResult((-1, -1)), tags: Entry.Posts));
            FieldPoint point = await reader.Cache.GetOrCreateAsync(pointKey, _ => ValueTask.FromResult(new FieldPoint { X = -1 }), tags: Entry.Posts);
            Assert.Equal((3, 4), (point.X, point.Y));
            Dictionary<string, (int, string)> map = await reader.Cache.GetOrCreateAsync(mapKey, _ => ValueTask.FromResult(new Dictionary<string, (int, string)>()), tags: Entry.Posts);
            Assert.Equal((5, "six"), Assert.Single(map).Value);
        }
        // A mutable value is read from its JSON on every in-process hit of the instance that computed it, too.
        FieldPoint local = await writer.Cache.GetOrCreateAsync(pointKey, _ => ValueTask.FromResult(new FieldPoint { X = -1 }), tags: Entry.Posts);
        Assert.Equal((3, 4), (local.X, local.Y));
        Assert.Empty(writer.Logs.WithEventId(CacheGenLogEvents.UncacheableType));
    }

    [Fact]
    public async Task With_user_options_that_leave_fields_out_a_tuple_is_returned_but_not_cached_with_one_warning()
    {
        Action<CacheGenOptions> noFields = o => o.SerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        await using var writer = CacheInstance.Create(redis.Configuration, noFields);
        await using var reader = CacheInstance.Create(redis.Configuration, noFields);
        using var metrics = new MetricsRecorder(writer.Hooks.Meter);
        string key = Entry.UniqueKey();
        var factory = new CountingFactory<(int, int)>(n => (n, 2));

        Assert.Equal((1, 2), await writer.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts));
        Assert.Equal((2, 2), await writer.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts));
        Assert.Equal((7, 8), await reader.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult((7, 8)), tags: Entry.Posts));
        await writer.SettledAsync();
        await reader.SettledAsync();

        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        LogLine warning = Assert.Single(writer.Logs.WithEventId(CacheGenLogEvents.UncacheableType));
        Assert.Contains("System.ValueTuple<System.Int32, System.Int32>: its public field Item1 is not part of its JSON", warning.Message);
        Assert.Equal(2, metrics.Sum("cachegen.uncacheable_values", "type=System.ValueTuple<System.Int32, System.Int32>"));
    }

    [Fact]
    public async Task Concurrent_callers_of_a_type_that_cannot_be_deserialized_all_get_the_value()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string key = Entry.UniqueKey();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        Func<CancellationToken, ValueTask<TwoConstructors>> slow = async _ =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return new TwoConstructors(7, "seven");
        };

        Task<TwoConstructors>[] waiting = Enumerable.Range(0, 5).Select(_ => instance.Cache.GetOrCreateAsync(key, slow, tags: Entry.Posts).AsTask()).ToArray();
        release.SetResult();
        TwoConstructors[] results = await Task.WhenAll(waiting).WaitAsync(HangGuard);

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal((7, "seven"), (r.Id, r.Name)));
        await instance.SettledAsync();
        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.Equal(0, instance.Hooks.LocalCount);
        Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.UncacheableType));
        Assert.Equal(1, metrics.Sum("cachegen.uncacheable_values"));
    }

    [Fact]
    public async Task A_Redis_entry_of_a_type_that_cannot_be_deserialized_makes_the_type_uncacheable_not_a_corrupt_entry_rewritten_forever()
    {
        // An entry as a build without the round-trip check wrote it: valid bytes that the type cannot be read from.
        await using var reader = CacheInstance.Create(redis.Configuration);
        using var metrics = new MetricsRecorder(reader.Hooks.Meter);
        string key = Entry.UniqueKey();
        await reader.Cache.GetOrCreateAsync("{posts}:prime", _ => ValueTask.FromResult(0), tags: Entry.Posts);
        await reader.SettledAsync();
        long[] generations = await TestEnvelopes.PostsGenerationsAsync(redis.Database);
        byte[] stored = TestEnvelopes.Value(new TwoConstructors(1, "old"), key, generations);
        await redis.Database.StringSetAsync(Entry.RedisKey(key), stored, TimeSpan.FromMinutes(1));
        var factory = new CountingFactory<TwoConstructors>(n => new TwoConstructors(n, "fresh"));

        for (int i = 1; i <= 3; i++)
            Assert.Equal(i, (await reader.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts)).Id);

        Assert.Empty(reader.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(0, metrics.Sum("cachegen.corrupt_entries"));
        Assert.Single(reader.Logs.WithEventId(CacheGenLogEvents.UncacheableType));
        // Left alone to expire: nothing is written for a type that cannot be read back.
        await reader.SettledAsync();
        Assert.Equal(stored, (byte[])(await redis.Database.StringGetAsync(Entry.RedisKey(key)))!);
    }

    [Fact]
    public async Task The_round_trip_check_is_not_fooled_by_a_first_value_whose_lost_member_holds_its_default()
    {
        await using var writer = CacheInstance.Create(redis.Configuration);
        await using var reader = CacheInstance.Create(redis.Configuration);
        string zero = Entry.UniqueKey(), five = Entry.UniqueKey();

        // Count == 0 reads back as 0 (the constructor ignores its argument); Count == 5 would read back as 0 too.
        await writer.Cache.GetOrCreateAsync(zero, _ => ValueTask.FromResult(new IgnoresItsArgument(0) { Count = 0, Name = "zero" }), tags: Entry.Posts);
        await writer.Cache.GetOrCreateAsync(five, _ => ValueTask.FromResult(new IgnoresItsArgument(5) { Count = 5, Name = "five" }), tags: Entry.Posts);

        Assert.Equal(5, (await writer.Cache.GetOrCreateAsync(five, _ => ValueTask.FromResult(new IgnoresItsArgument(5) { Count = 5 }), tags: Entry.Posts)).Count);
        // The reader would find in Redis whatever the writer stored.
        await writer.SettledAsync();
        Assert.Equal(5, (await reader.Cache.GetOrCreateAsync(five, _ => ValueTask.FromResult(new IgnoresItsArgument(5) { Count = 5 }), tags: Entry.Posts)).Count);
        Assert.Single(writer.Logs.WithEventId(CacheGenLogEvents.UncacheableType));
    }

    [Fact]
    public async Task A_dictionary_keyed_by_tuples_is_returned_uncached_with_one_warning_for_its_type()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();
        var factory = new CountingFactory<Dictionary<(int, int), string>>(n => new() { [(n, 2)] = "v" });

        Assert.Equal((1, 2), Assert.Single(await instance.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts)).Key);
        Assert.Equal((2, 2), Assert.Single(await instance.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts)).Key);

        Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.UncacheableType));
        Assert.Empty(instance.Logs.WithEventId(CacheGenLogEvents.SerializeFailed));
    }

    [Fact]
    public async Task A_subclass_returned_through_its_base_type_is_returned_but_not_cached()
    {
        await using var writer = CacheInstance.Create(redis.Configuration);
        await using var reader = CacheInstance.Create(redis.Configuration);
        string key = Entry.UniqueKey();

        Animal stored = await writer.Cache.GetOrCreateAsync<Animal>(key, _ => ValueTask.FromResult<Animal>(new Dog { Name = "Rex", Breed = "collie" }), tags: Entry.Posts);
        // The reader would find in Redis whatever the writer stored.
        await writer.SettledAsync();
        Animal read = await reader.Cache.GetOrCreateAsync<Animal>(key, _ => ValueTask.FromResult<Animal>(new Dog { Name = "Rex", Breed = "collie" }), tags: Entry.Posts);

        Assert.Equal("collie", Assert.IsType<Dog>(stored).Breed);
        Assert.Equal("collie", Assert.IsType<Dog>(read).Breed);
        Assert.Contains("reads back as a CacheGen.Redis.Tests.Animal", Assert.Single(writer.Logs.WithEventId(CacheGenLogEvents.UncacheableType)).Message);
    }

    [Fact]
    public void A_type_is_confirmed_once_every_member_it_has_shown_held_content_and_after_at_most_MaximumProbes_probes()
    {
        var state = new RoundTripState("T", RoundTripState.Probing, null);
        state.Passed("""{"count":0,"name":"","tags":[],"owner":null}"""u8);
        Assert.Equal(RoundTripState.Probing, state.Status);
        state.Passed("""{"count":5,"name":"","tags":["a"],"owner":{"id":1}}"""u8);
        Assert.Equal(RoundTripState.Probing, state.Status); // name has held only ""
        state.Passed("""[{"count":0,"name":"x"}]"""u8);
        Assert.Equal(RoundTripState.Probing, state.Status); // a list: the elements' count has held only 0
        state.Passed("""[{"count":0,"name":"x"},{"count":2,"name":""}]"""u8);
        Assert.Equal(RoundTripState.Probing, state.Status); // one element with content is enough for the list; name still waits
        state.Passed("""{"count":1,"name":"n","tags":["b"],"owner":{"id":2}}"""u8);
        Assert.Equal(RoundTripState.Confirmed, state.Status);

        var alwaysFalse = new RoundTripState("U", RoundTripState.Probing, null);
        for (int i = 1; i < RoundTripState.MaximumProbes; i++)
            alwaysFalse.Passed("""{"deleted":false,"id":7}"""u8);
        Assert.Equal(RoundTripState.Probing, alwaysFalse.Status);
        alwaysFalse.Passed("""{"deleted":false,"id":7}"""u8);
        Assert.Equal(RoundTripState.Confirmed, alwaysFalse.Status);

        alwaysFalse.Reprobe();
        Assert.Equal(RoundTripState.Probing, alwaysFalse.Status);
    }
}

/// <summary>A base type whose JSON contract does not know its subclasses.</summary>
public class Animal
{
    public string Name { get; set; } = "";
}

public sealed class Dog : Animal
{
    public string Breed { get; set; } = "";
}

/// <summary>Public fields only, like a value tuple: System.Text.Json leaves it out unless fields are included.</summary>
public sealed class FieldPoint
{
    public int X;
    public int Y;
}

/// <summary>Serializes, but System.Text.Json cannot pick a constructor to read it back.</summary>
public sealed class TwoConstructors
{
    public TwoConstructors(int id, string name) => (Id, Name) = (id, name);

    public TwoConstructors(string name) : this(0, name)
    {
    }

    public int Id { get; }

    public string Name { get; }
}

/// <summary>Reads back with Count = 0 whatever was written: the constructor takes the value and drops it.</summary>
public sealed class IgnoresItsArgument
{
    public IgnoresItsArgument(int count)
    {
    }

    public int Count { get; init; }

    public string Name { get; set; } = "";
}
