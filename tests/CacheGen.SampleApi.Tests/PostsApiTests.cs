using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace CacheGen.SampleApi.Tests;

/// <summary>The Django article's story end to end: addpost, a cached list, writes that evict it, Redis's view of it.</summary>
public sealed class PostsApiTests
{
    [Fact]
    public async Task AddPost1000_then_list_returns_every_post_in_the_original_shape()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 1000);

        (JsonElement posts, _) = await host.ListAsync();

        Assert.Equal(1000, posts.EnumerateObject().Count());
        AssertPost(posts.GetProperty("post_1"), 1, "Test Post0", "This is the test post 0");
        AssertPost(posts.GetProperty("post_1000"), 1000, "Test Post999", "This is the test post 999");
        // In id order, like the Django view's queryset.
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => $"post_{i}"), posts.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Second_list_is_served_from_the_cache_without_touching_the_database()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 1000);

        (_, string first) = await host.ListAsync();
        long queries = host.Store.QueryCount;
        (_, string second) = await host.ListAsync();
        (_, string third) = await host.ListAsync();

        Assert.Equal(queries, host.Store.QueryCount);
        Assert.Equal(first, second);
        Assert.Equal(first, third);
    }

    [Fact]
    public async Task Single_post_is_cached_too()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 10);

        Post? first = await host.Client.GetFromJsonAsync<Post>("/posts/3");
        long queries = host.Store.QueryCount;
        Post? second = await host.Client.GetFromJsonAsync<Post>("/posts/3");

        Assert.Equal(new Post(3, "Test Post2", "This is the test post 2"), first);
        Assert.Equal(first, second);
        Assert.Equal(queries, host.Store.QueryCount);
    }

    [Fact]
    public async Task Create_update_delete_are_visible_on_the_very_next_reads()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 1000);
        (JsonElement before, _) = await host.ListAsync(); // warm the list cache
        Assert.Equal(1000, before.EnumerateObject().Count());

        // POST: 201 + Location, and the next list (and single read) has it.
        using HttpResponseMessage created = await host.SendJsonAsync(HttpMethod.Post, "/posts/", new { title = "Hello", content = "From CacheGen" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Post post = (await created.Content.ReadFromJsonAsync<Post>())!;
        Assert.Equal(new Post(1001, "Hello", "From CacheGen"), post);
        Assert.Equal("/posts/1001", created.Headers.Location?.OriginalString);
        (JsonElement afterCreate, _) = await host.ListAsync();
        Assert.Equal(1001, afterCreate.EnumerateObject().Count());
        AssertPost(afterCreate.GetProperty("post_1001"), 1001, "Hello", "From CacheGen");
        Assert.Equal(post, await host.Client.GetFromJsonAsync<Post>("/posts/1001"));

        // PUT: both the list and the (now cached) single read change.
        using HttpResponseMessage updated = await host.SendJsonAsync(HttpMethod.Put, "/posts/1001", new { title = "Hello again", content = "Edited" });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(new Post(1001, "Hello again", "Edited", Version: 2), await updated.Content.ReadFromJsonAsync<Post>());
        (JsonElement afterUpdate, _) = await host.ListAsync();
        AssertPost(afterUpdate.GetProperty("post_1001"), 1001, "Hello again", "Edited");
        Assert.Equal(new Post(1001, "Hello again", "Edited", Version: 2), await host.Client.GetFromJsonAsync<Post>("/posts/1001"));

        // DELETE: 204, gone from the list, 404 on the single read.
        using HttpResponseMessage deleted = await host.Client.DeleteAsync("/posts/1001");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        (JsonElement afterDelete, _) = await host.ListAsync();
        Assert.Equal(1000, afterDelete.EnumerateObject().Count());
        Assert.False(afterDelete.TryGetProperty("post_1001", out _));
        using HttpResponseMessage missing = await host.Client.GetAsync("/posts/1001");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Add_post_command_evicts_the_list_cached_by_a_running_api()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 100);
        (JsonElement before, _) = await host.ListAsync();
        Assert.Equal(100, before.EnumerateObject().Count());

        // Another process (here: another app instance in this one) adds posts; the eviction reaches the API through
        // Redis, so its in-process copy goes within the pub/sub delivery time.
        var output = new StringWriter();
        Assert.Equal(0, await SampleApp.RunAsync(["addpost", "5", .. host.ConfigArguments], output, new StringWriter()));

        int count = 0;
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(50))
        {
            count = (await host.ListAsync()).Posts.EnumerateObject().Count();
            if (count == 105)
                break;
        }
        Assert.Equal(105, count);
    }

    [Fact]
    public async Task Redis_keys_read_like_djangos_prefix_version_key_in_database1()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 10);

        await host.ListAsync();
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/posts/1")).StatusCode);

        string[] keys = host.Redis!.Cli("-n", "1", "KEYS", "*").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // Entries: KEY_PREFIX:VERSION:{region}:key; CacheGen's own keys start with '#': the region's generation counter
        // KEY_PREFIX:VERSION:#gen:{region} and the clear epoch KEY_PREFIX:VERSION:#clear.
        Assert.All(keys, key => Assert.StartsWith("example:1:", key, StringComparison.Ordinal));
        Assert.Contains("example:1:#gen:{posts}", keys);
        Assert.Contains("example:1:#clear", keys);
        string[] entries = keys.Where(key => !key.StartsWith("example:1:#", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, entries.Length); // the list and post 1
        Assert.All(entries, key => Assert.StartsWith("example:1:{posts}:", key, StringComparison.Ordinal));
        // A generated method's entry name ends with a byte UTF-8 never holds (0xFE, then its value type's shape), which
        // does not survive a round trip through text: the TTLs are read inside Redis.
        string[] ttls = host.Redis.Cli("-n", "1", "EVAL",
            "local t = {} for _, k in ipairs(redis.call('KEYS', 'example:1:{posts}:*')) do t[#t + 1] = redis.call('TTL', k) end return t", "0")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, ttls.Length);
        Assert.All(ttls, ttl => Assert.InRange(long.Parse(ttl, System.Globalization.CultureInfo.InvariantCulture), 1, 300));
        // Nothing lands in database 0.
        Assert.Equal("0", host.Redis.Cli("-n", "0", "DBSIZE"));
    }

    [Fact]
    public async Task OpenApiDocument_describes_the_post_routes()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 0);

        using JsonDocument document = JsonDocument.Parse(await host.Client.GetStringAsync("/openapi/v1.json"));
        JsonElement paths = document.RootElement.GetProperty("paths");

        JsonElement list = paths.GetProperty("/posts");
        Assert.True(list.TryGetProperty("get", out _));
        Assert.True(list.TryGetProperty("post", out _));
        JsonElement single = paths.GetProperty("/posts/{id}");
        Assert.True(single.TryGetProperty("get", out _));
        Assert.True(single.TryGetProperty("put", out _));
        Assert.True(single.TryGetProperty("delete", out _));
    }

    [Fact]
    public async Task Every_update_increments_the_version_shown_on_the_single_post_but_not_in_the_list()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 3);
        Assert.Equal("""{"id":2,"title":"Test Post1","content":"This is the test post 1","version":1}""", await host.Client.GetStringAsync("/posts/2"));

        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage updated = await host.SendJsonAsync(HttpMethod.Put, "/posts/2", new { title = "t" + i, content = "c" });
            Assert.Equal(i + 2, (await updated.Content.ReadFromJsonAsync<Post>())!.Version);
        }

        Assert.Equal(4, (await host.Client.GetFromJsonAsync<Post>("/posts/2"))!.Version);
        (JsonElement list, string body) = await host.ListAsync();
        AssertPost(list.GetProperty("post_2"), 2, "t2", "c");
        Assert.DoesNotContain("version", body);
    }

    [Fact]
    public async Task A_database_from_before_versions_gets_the_column_and_its_posts_start_at_version1()
    {
        string file = Path.Combine(Path.GetTempPath(), "cachegen-old-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + file))
            {
                await connection.OpenAsync();
                await using var command = connection.CreateCommand();
                command.CommandText = """
                    CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, content TEXT NOT NULL);
                    INSERT INTO posts (title, content) VALUES ('old', 'post');
                    """;
                await command.ExecuteNonQueryAsync();
            }
            var store = new PostStore(file);
            store.EnsureCreated();
            store.EnsureCreated();   // idempotent

            Assert.Equal(new Post(1, "old", "post", Version: 1), await store.FindAsync(1));
            Assert.Equal(2, (await store.UpdateAsync(1, "new", "post"))!.Version);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    private static void AssertPost(JsonElement post, int id, string title, string content)
    {
        Assert.Equal(3, post.EnumerateObject().Count());
        Assert.Equal(id, post.GetProperty("id").GetInt32());
        Assert.Equal(title, post.GetProperty("title").GetString());
        Assert.Equal(content, post.GetProperty("content").GetString());
    }
}
