using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace CacheGen.SampleApi;

/// <summary>
/// Turns request-binding failures (malformed JSON, a wrong content type, an id that is not a number) into a
/// problem response with their real status code and a readable reason, instead of an empty 400 (or a 500).
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
            return false;
        string detail = badRequest.InnerException is JsonException json
            ? $"The request body is not valid JSON for this endpoint: {json.Message}"
            : badRequest.Message;
        httpContext.Response.StatusCode = badRequest.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = badRequest.StatusCode, Detail = detail },
        });
    }
}
