using System.Net;
using System.Text.Json;

namespace CacheGen.SampleApi.Tests;

/// <summary>
/// GET /posts/?ids=1,2,3 through [CachedBatch]: the posts in the list's Django shape, GetAsync's own entries (counted in
/// database queries: the ids that missed cost one query together, the rest none), and a 400 problem for bad ids.
/// </summary>
public sealed class BatchEndpointTests
{
    private static async Task<(JsonElement Posts, long Queries)> GetAsync(SampleApiHost host, string path)
    {
        long before = host.Store.QueryCount;
        using HttpResponseMessage response = await host.Client.GetAsync(path);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} -> {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (JsonDocument.Parse(body).RootElement.Clone(), host.Store.QueryCount - before);
    }

    [Fact]
    public async Task Ids_are_read_in_one_query_as_the_single_posts_entries_in_the_lists_shape()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 30);

        (JsonElement posts, long queries) = await GetAsync(host, "/posts/?ids=3,1,2,3");

        Assert.Equal(1, queries);
        Assert.Equal(["post_1", "post_2", "post_3"], posts.EnumerateObject().Select(p => p.Name));
        JsonElement first = posts.GetProperty("post_1");
        Assert.Equal(1, first.GetProperty("id").GetInt32());
        Assert.Equal("Test Post0", first.GetProperty("title").GetString());
        Assert.Equal("This is the test post 0", first.GetProperty("content").GetString());
        // The single post reads the batch's entry, and a batch reads the single post's: only post 4 is queried.
        long before = host.Store.QueryCount;
        using (HttpResponseMessage single = await host.Client.GetAsync("/posts/2"))
            Assert.Equal(HttpStatusCode.OK, single.StatusCode);
        Assert.Equal(0, host.Store.QueryCount - before);
        using (HttpResponseMessage single = await host.Client.GetAsync("/posts/4"))
            Assert.Equal(HttpStatusCode.OK, single.StatusCode);
        (posts, queries) = await GetAsync(host, "/posts/?ids=2,4,5");
        Assert.Equal(1, queries);
        Assert.Equal(["post_2", "post_4", "post_5"], posts.EnumerateObject().Select(p => p.Name));
        (_, queries) = await GetAsync(host, "/posts/?ids=1,2,3,4,5");
        Assert.Equal(0, queries);
    }

    [Fact]
    public async Task Ids_with_no_post_are_absent_and_remembered_as_not_found()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 5);

        (JsonElement posts, long queries) = await GetAsync(host, "/posts/?ids=1,999");
        Assert.Equal(["post_1"], posts.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, queries);

        (_, queries) = await GetAsync(host, "/posts/?ids=1,999");
        Assert.Equal(0, queries);
        long before = host.Store.QueryCount;
        using (HttpResponseMessage missing = await host.Client.GetAsync("/posts/999"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(0, host.Store.QueryCount - before);
    }

    [Fact]
    public async Task Deleting_a_post_drops_it_from_the_next_batch()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 5);
        await GetAsync(host, "/posts/?ids=1,2,3");

        using (HttpResponseMessage delete = await host.Client.DeleteAsync("/posts/2"))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        (JsonElement posts, long queries) = await GetAsync(host, "/posts/?ids=1,2,3");
        Assert.Equal(["post_1", "post_3"], posts.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, queries);
    }

    public static TheoryData<string> BadIds() =>
    [
        "",
        "abc",
        "1,,2",
        "0",
        "-1",
        "+1",
        "1.5",
        "99999999999",
        string.Join(",", Enumerable.Range(1, 101)),
    ];

    [Theory]
    [MemberData(nameof(BadIds))]
    public async Task Bad_ids_get_a_400_problem_naming_the_ids(string ids)
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 3, withRedis: false);

        using HttpResponseMessage response = await host.Client.GetAsync("/posts/?ids=" + Uri.EscapeDataString(ids));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("ids", out _));
    }

    [Fact]
    public async Task A_hundred_ids_are_allowed()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 100, withRedis: false);

        (JsonElement posts, long queries) = await GetAsync(host, "/posts/?ids=" + string.Join(",", Enumerable.Range(1, 100)));

        Assert.Equal(100, posts.EnumerateObject().Count());
        Assert.Equal(1, queries);
    }
}
