using CacheGen.AspNetCore.Encoding;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace CacheGen.AspNetCore;

/// <summary>
/// Writes a <see cref="JsonPayload"/> as a <c>200 application/json</c> response with a strong <c>ETag</c> made from the
/// payload's <see cref="JsonPayload.Hash"/>. A request whose <c>If-None-Match</c> names that tag gets <c>304</c> and
/// no body. A request that accepts <c>br</c> or <c>gzip</c> gets a compressed copy with <c>Content-Encoding</c>; the
/// copy is made once per payload instance and shared by every later request. Every answer carries
/// <c>Vary: Accept-Encoding</c>.
/// </summary>
public sealed class JsonPayloadHttpResult : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    internal JsonPayloadHttpResult(JsonPayload payload) => Payload = payload;

    /// <summary>The payload written.</summary>
    public JsonPayload Payload { get; }

    /// <summary>200 (a 304 is decided per request).</summary>
    public int? StatusCode => StatusCodes.Status200OK;

    /// <summary><c>application/json; charset=utf-8</c>.</summary>
    public string ContentType => "application/json; charset=utf-8";

    /// <inheritdoc />
    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        HttpRequest request = httpContext.Request;
        HttpResponse response = httpContext.Response;

        Representation representation = Representations.Of(Payload).For(ContentNegotiation.Choose(request.Headers.AcceptEncoding));

        IHeaderDictionary headers = response.Headers;
        headers.ETag = representation.EntityTag;
        headers.Append(HeaderNames.Vary, HeaderNames.AcceptEncoding);
        if (EntityTags.Matches(request.Headers.IfNoneMatch, representation.EntityTag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        if (representation.Coding is not null)
            headers.ContentEncoding = representation.Coding;
        response.ContentLength = representation.Bytes.Length;
        return HttpMethods.IsHead(request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(representation.Bytes, httpContext.RequestAborted).AsTask();
    }
}
