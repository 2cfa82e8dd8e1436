using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.SampleApi.Tests;

/// <summary>
/// GET /posts/{id}/related reads IRelatedPosts through its generated caching decorator: a hit runs no query, the
/// entry lands in Redis, and a write that evicts the lists evicts it too.
/// </summary>
public sealed class RelatedPostsTests
{
    private static async Task<(long Queries, JsonElement Body)> GetAsync(SampleApiHost host, string path)
    {
        long before = host.Store.QueryCount;
        using HttpResponseMessage response = await host.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (host.Store.QueryCount - before, body);
    }

    /// <summary>
    /// How many entries Redis holds for a generated method's key: one per shape of its value type, each named by the
    /// key, the byte 0xFE (Lua's '\254') and the shape's fingerprint.
    /// </summary>
    private static string ShapedEntries(SampleApiHost host, string redisKey) =>
        host.Redis!.Cli("-n", "1", "EVAL", "return #redis.call('KEYS', ARGV[1] .. '\\254*')", "0", redisKey);

    [Fact]
    public async Task Related_posts_are_cached_by_the_decorator_and_evicted_by_a_write()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 20);
        Assert.IsType<CachedRelatedPosts>(host.Services.GetRequiredService<IRelatedPosts>());

        (long queries, JsonElement body) = await GetAsync(host, "/posts/5/related");
        Assert.Equal(2, queries); // post 5 (PostService) and the list (the inner service)
        Assert.Equal("posts nearest by id", body.GetProperty("source").GetString()); // a forwarded member
        Assert.Equal([4, 6, 3], body.GetProperty("posts").EnumerateArray().Select(p => p.GetProperty("id").GetInt32()));
        Assert.Equal(0, (await GetAsync(host, "/posts/5/related")).Queries);
        // A miss answers before its Redis write lands.
        for (int i = 0; i < 100 && ShapedEntries(host, "example:1:{related}:related:5") != "1"; i++)
            await Task.Delay(50);
        Assert.Equal("1", ShapedEntries(host, "example:1:{related}:related:5"));

        using (HttpResponseMessage put = await host.SendJsonAsync(HttpMethod.Put, "/posts/4", new { title = "Edited", content = "c" }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        (queries, body) = await GetAsync(host, "/posts/5/related");
        Assert.Equal(1, queries);
        Assert.Equal("Edited", body.GetProperty("posts")[0].GetProperty("title").GetString());
    }

    [Fact]
    public async Task Related_posts_of_a_missing_post_is_a_404()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 2);
        using HttpResponseMessage response = await host.Client.GetAsync("/posts/99/related");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
