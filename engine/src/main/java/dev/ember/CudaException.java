package dev.ember;

/** A CUDA driver, cuBLAS or kernel call failed; the message names the call and the CUresult/status name. */
public class CudaException extends LlmException {
    private static final long serialVersionUID = 1L;

    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}
